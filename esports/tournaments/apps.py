from django.apps import AppConfig


class TournamentsConfig(AppConfig):
    name = "esports.tournaments"
    label = "tournaments"
    verbose_name = "Tournaments"

    def ready(self) -> None:
        from esports.tournaments.activity import register

        register()
