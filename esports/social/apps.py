from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "esports.social"
    label = "social"
    verbose_name = "Follows between players"

    def ready(self) -> None:
        from esports.social import personal_data

        personal_data.register()
