from esports import platform_app


class AchievementsConfig(platform_app.PlatformAppConfig):
    name = "esports.achievements"
    label = "achievements"
    verbose_name = "Achievements"
