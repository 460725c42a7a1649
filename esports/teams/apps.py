from esports import platform_app


class TeamsConfig(platform_app.PlatformAppConfig):
    name = "esports.teams"
    label = "teams"
    verbose_name = "Teams"
