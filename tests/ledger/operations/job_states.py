"""Jobs in the states a worker leaves them in: queued, held under a live lease, or abandoned."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

from django.test import override_settings
from django.utils import timezone

from ledger import tasks
from ledger.models import LedgerJob
from ledger.operations.jobs import submit_job


def queued(kind: str = "backfill", parameters: dict[str, Any] | None = None) -> LedgerJob:
    """A job recorded with a broker configured: pending, its message (mocked) not yet run."""
    with (
        override_settings(CELERY_BROKER_URL="memory://"),
        mock.patch.object(tasks.run_ledger_job, "delay"),
    ):
        return submit_job(kind=kind, parameters=parameters or {}, requested_by=None)


def hold(job: LedgerJob, *, owner: str = "alive-host:1:aaaa", seconds: float = 30) -> None:
    """What a worker that runs the job writes: RUNNING under its lease, ``seconds`` from now
    (negative: expired, as a killed worker leaves it)."""
    LedgerJob.objects.filter(pk=job.pk).update(
        status=LedgerJob.Status.RUNNING,
        lease_owner=owner,
        lease_expires_at=timezone.now() + timedelta(seconds=seconds),
    )


def abandon(job: LedgerJob, *, owner: str = "dead-host:4242:cafe") -> None:
    """What a killed worker leaves: the job RUNNING under its lease, expired a while ago, and in
    line for long enough that a sweep sends it again."""
    hold(job, owner=owner, seconds=-5)
    LedgerJob.objects.filter(pk=job.pk).update(queued_at=timezone.now() - timedelta(hours=1))
