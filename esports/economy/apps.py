from django.apps import AppConfig


class EconomyConfig(AppConfig):
    name = "esports.economy"
    label = "economy"
    verbose_name = "DeltaCoin economy"

    def ready(self) -> None:
        from esports.economy import receivers  # noqa: F401
        from esports.economy.activity import register

        register()
