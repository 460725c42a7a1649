from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """The project's own system checks; config holds no models."""

    name = "config"
    label = "config"
    verbose_name = "Operations"

    def ready(self) -> None:
        from config import checks  # noqa: F401 - registers the checks
