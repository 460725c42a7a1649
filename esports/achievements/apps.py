from django.apps import AppConfig


class AchievementsConfig(AppConfig):
    name = "esports.achievements"
    label = "achievements"
    verbose_name = "Achievements"

    def ready(self) -> None:
        from esports.achievements.activity import register

        register()
