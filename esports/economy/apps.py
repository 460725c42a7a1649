from esports import platform_app


class EconomyConfig(platform_app.PlatformAppConfig):
    name = "esports.economy"
    label = "economy"
    verbose_name = "DeltaCoin economy"

    def ready(self) -> None:
        super().ready()
        from esports.economy import receivers  # noqa: F401
