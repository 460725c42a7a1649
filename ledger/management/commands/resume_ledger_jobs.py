"""Take again the ledger jobs whose worker died: what Celery workers do on their own."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from ledger.operations.jobs import requeue_stale_jobs


class Command(BaseCommand):
    help = (
        "Take again every ledger job no live worker holds (running with an expired lease, or "
        "pending for longer than a lease). With CELERY_BROKER_URL they are sent to the workers, "
        "which also do this on their own; without (jobs run inline), they run here, one after "
        "another, each resuming from its checkpoints."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        taken = requeue_stale_jobs()
        how = "sent to the workers" if settings.CELERY_BROKER_URL else "run here"
        listed = ", ".join(str(pk) for pk in taken) or "none"
        self.stdout.write(f"Jobs taken again ({how}): {listed}.")
