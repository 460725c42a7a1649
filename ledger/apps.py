from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Activity ledger"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Metrics: count events only once their batch committed (activity_recorded is on commit).
        from ledger.metrics import count_recorded_events
        from ledger.signals import activity_recorded

        activity_recorded.connect(count_recorded_events, dispatch_uid="ledger.metrics")
