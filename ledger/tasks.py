"""Celery tasks: the ledger's jobs on a worker when ``CELERY_BROKER_URL`` is set.

``ledger.run_job`` is acknowledged when it starts (``acks_late`` off): the job's lease, not the
broker, decides who runs it, and a message for a job that is finished, cancelled or held by a
live worker does nothing (docs/decisions/0013).
"""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(name="ledger.run_job", acks_late=False)
def run_ledger_job(job_id: int, user_id: int | None = None) -> dict[str, Any]:
    """Run a job ``submit_job`` recorded; ``user_id`` travels only in the message (anonymize)."""
    from ledger.operations.jobs import run_job

    job = run_job(job_id=job_id, user_id=user_id)
    return {"job": job.pk, "status": job.status}


@shared_task(name="ledger.nightly_reconcile")
def nightly_reconcile() -> dict[str, Any]:
    """The nightly ``reconcile_user_stats --fix`` (beat, 03:00 UTC), recorded as a job."""
    from ledger.operations.jobs import run_job_now

    job, _ = run_job_now(kind="reconcile", parameters={"user_ids": None, "fix": True})
    return {"job": job.pk, "status": job.status}


@shared_task(name="ledger.make_event_months")
def make_event_months() -> dict[str, Any]:
    """The daily ``make_event_months`` (beat, 02:30 UTC): partitions ahead of live recording."""
    from ledger.operations.partitions import make_coming_event_months

    return {"made": make_coming_event_months()}


@shared_task(name="ledger.scheduled_archive")
def scheduled_archive() -> dict[str, Any]:
    """The daily archive (beat, 04:00 UTC): whole months older than ``LEDGER_ARCHIVE_AFTER_DAYS``,
    recorded as a job; a day with no month to move does nothing."""
    from django.conf import settings

    from ledger.operations.archive import scheduled_before
    from ledger.operations.jobs import run_job_now

    before = scheduled_before(after_days=int(settings.LEDGER_ARCHIVE_AFTER_DAYS))
    job, _ = run_job_now(kind="archive", parameters={"before": before.isoformat()})
    return {"job": job.pk, "status": job.status}
