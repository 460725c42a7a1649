from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "esports.profiles"
    label = "profiles"
    verbose_name = "Player profiles"

    def ready(self) -> None:
        from esports.profiles import receivers  # noqa: F401
