from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "esports.teams"
    label = "teams"
    verbose_name = "Teams"

    def ready(self) -> None:
        from esports.teams.activity import register

        register()
