from esports import platform_app


class TournamentsConfig(platform_app.PlatformAppConfig):
    name = "esports.tournaments"
    label = "tournaments"
    verbose_name = "Tournaments"
