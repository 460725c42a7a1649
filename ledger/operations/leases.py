"""A job's lease: which worker runs it, until when; how it is taken, renewed, lost and swept.

The job row is the truth (docs/decisions/0013). Claiming is one conditional UPDATE that matches
only a job no live worker holds: PENDING, or RUNNING with a lease the database clock says has
expired; it compares the attempt count it read, so of two claimants only the first matches
(PostgreSQL re-checks the condition on the row the winner wrote). Every write a worker makes
while it runs a job is conditional on holding the lease, so a worker that lost it (cut off,
paused, declared dead) writes nothing: its renewal matches no row, and its operation stops at
the next progress callback (``OperationStopped``). Times come from the database (``Now()``),
so workers on several machines agree on when a lease has expired.
"""

from __future__ import annotations

import enum
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, connections
from django.db.models import Count, DateTimeField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from ledger import metrics
from ledger.models import LedgerJob
from ledger.operations.progress import OperationStopped

logger = logging.getLogger("ledger.jobs")

Status = LedgerJob.Status


def lease_seconds() -> float:
    return float(settings.LEDGER_JOB_LEASE_SECONDS)


def max_attempts() -> int:
    return int(settings.LEDGER_JOB_MAX_ATTEMPTS)


def _lease_end() -> ExpressionWrapper:
    """Now, plus one lease, by the database's clock."""
    return ExpressionWrapper(
        Now() + timedelta(seconds=lease_seconds()), output_field=DateTimeField()
    )


def _new_owner() -> str:
    """Names the worker and this attempt: host, process, and a token no other attempt has."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def attempt_error(*, attempt: int, worker: str, error: str) -> dict[str, Any]:
    """One entry of ``LedgerJob.attempt_errors``."""
    return {
        "attempt": attempt,
        "worker": worker,
        "at": timezone.now().isoformat(),
        "error": error,
    }


@dataclass(frozen=True)
class Lease:
    """A job this worker holds: what it needs to write as the holder."""

    job: LedgerJob
    """The row as this attempt took it (``attempts`` and ``attempt_errors`` included: only the
    holder appends to them)."""
    owner: str

    def held(self) -> QuerySet[LedgerJob]:
        """The job's row, if (and only if) this lease still holds it."""
        return LedgerJob.objects.filter(
            pk=self.job.pk, lease_owner=self.owner, status=Status.RUNNING
        )


def claim(*, job_id: int) -> Lease | None:
    """Take the job for a new attempt, or None when it is not to be run here: finished, held by
    a live worker, or (its worker gone) cancelled or out of attempts, which this records.

    Raises ``LedgerJob.DoesNotExist`` for an unknown id.
    """
    row = LedgerJob.objects.get(pk=job_id)
    if row.status not in (Status.PENDING, Status.RUNNING):
        return None
    if row.status == Status.RUNNING and row.lease_expires_at is None:
        return None  # not one of ours: the migration gave every running job a lease
    as_read = LedgerJob.objects.filter(
        pk=job_id, status=row.status, attempts=row.attempts, lease_owner=row.lease_owner
    )
    errors = list(row.attempt_errors)
    expired = row.status == Status.RUNNING  # if the claim matches, its worker is gone
    if expired:
        as_read = as_read.filter(lease_expires_at__lt=Now())
        errors.append(
            attempt_error(
                attempt=row.attempts,
                worker=row.lease_owner,
                error="LeaseExpired: the worker stopped renewing its lease (it expired at "
                f"{row.lease_expires_at:%Y-%m-%d %H:%M:%S} UTC): killed, or cut off.",
            )
        )
    if row.cancel_requested_at is not None or row.attempts >= max_attempts():
        status = Status.CANCELLED if row.cancel_requested_at is not None else Status.FAILED
        ended = as_read.update(
            status=status,
            error=errors[-1]["error"] if status == Status.FAILED and errors else "",
            attempt_errors=errors,
            finished_at=Now(),
            lease_owner="",
            lease_expires_at=None,
        )
        if ended:
            _ended(row, expired=expired, status=status)
        return None
    owner = _new_owner()
    taken = as_read.filter(cancel_requested_at__isnull=True).update(
        status=Status.RUNNING,
        attempts=row.attempts + 1,
        attempt_errors=errors,
        lease_owner=owner,
        lease_expires_at=_lease_end(),
        started_at=Coalesce(F("started_at"), Now()),
    )
    if not taken:
        return None
    _ended(row, expired=expired, status=Status.RUNNING)
    row.refresh_from_db()
    return Lease(job=row, owner=owner)


def _ended(row: LedgerJob, *, expired: bool, status: str) -> None:
    """Count what a claim changed. An attempt whose lease expired is counted by whoever takes
    the job after it: the claim's condition matches for one claimant only."""
    if expired:
        metrics.job_attempt_ended(kind=row.kind, outcome="expired")
    metrics.job_status_changed(kind=row.kind, status=status)


class LeaseState(enum.Enum):
    HELD = "held"
    CANCEL_REQUESTED = "cancel requested"
    LOST = "lost"


def renew(lease: Lease, *, progress: tuple[int, int | None] | None = None) -> LeaseState:
    """Push the lease's expiry one lease ahead (and record progress): one UPDATE, or two when
    a cancel was asked for. LOST when the row is no longer this lease's."""
    values: dict[str, Any] = {"lease_expires_at": _lease_end()}
    if progress is not None:
        values["progress_done"], values["progress_total"] = progress
    if lease.held().filter(cancel_requested_at__isnull=True).update(**values):
        return LeaseState.HELD
    if lease.held().update(**values):  # still ours: keep it while the operation winds down
        return LeaseState.CANCEL_REQUESTED
    return LeaseState.LOST


class Heartbeat:
    """Keeps a lease while an operation runs and tells the operation's checkpoints to stop.

    A thread of its own (with its own database connection) renews the lease every third of its
    length, so a batch that takes longer than the lease cannot lose it. Inside a transaction
    (tests, a caller's ``atomic``) there is no thread: another connection could not see an
    uncommitted job row, and the claim's UPDATE keeps the row locked until that transaction
    ends, so no other worker can take the job meanwhile; the checkpoints renew it instead.
    """

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        self.state = LeaseState.HELD
        self._renewed = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if not connection.in_atomic_block:
            self._thread = threading.Thread(
                target=self._beat, name=f"ledger-job-{lease.job.pk}-heartbeat", daemon=True
            )

    def __enter__(self) -> Heartbeat:
        if self._thread is not None:
            self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=lease_seconds())

    def note(self, state: LeaseState) -> None:
        """What a renewal found; a lost lease stays lost."""
        if self.state is not LeaseState.LOST:
            self.state = state
            self._renewed = time.monotonic()

    def checkpoint(self, *, done: int, total: int | None) -> None:
        """Renew and record progress; raise ``OperationStopped`` if the lease is lost, or if a
        cancel was asked for and the operation has work left (at its end it is too late)."""
        if self.state is not LeaseState.LOST:
            self.note(renew(self.lease, progress=(done, total)))
        if self.state is LeaseState.LOST:
            raise OperationStopped("lost")
        at_end = total is not None and done >= total
        if self.state is LeaseState.CANCEL_REQUESTED and not at_end:
            raise OperationStopped("cancelled")

    def _beat(self) -> None:
        interval = lease_seconds() / 3
        try:
            while not self._stop.wait(interval):
                try:
                    self.note(renew(self.lease))
                except DatabaseError:
                    logger.warning("ledger job %s: lease renewal failed", self.lease.job.pk)
                    if time.monotonic() - self._renewed > lease_seconds():
                        self.state = LeaseState.LOST  # it may have expired: assume the worst
                if self.state is LeaseState.LOST:
                    logger.warning(
                        "ledger job %s: lease %s lost; stopping at the next checkpoint",
                        self.lease.job.pk,
                        self.lease.owner,
                    )
                    return
        finally:
            connections.close_all()  # this thread's own connection


def requeue_stale_jobs(*, send: Callable[[int], None]) -> list[int]:
    """Send again every job no live worker holds: RUNNING with an expired lease, or PENDING and
    in line for longer than a lease (its message went down with a dead worker's prefetch, or
    with the broker). However many workers sweep, a job is sent at most once per lease."""
    waited = ExpressionWrapper(
        Now() - timedelta(seconds=lease_seconds()), output_field=DateTimeField()
    )
    due = LedgerJob.objects.filter(
        Q(status=Status.RUNNING, lease_expires_at__lt=Now()) | Q(status=Status.PENDING),
        queued_at__lt=waited,
    )
    sent = []
    for pk, queued_at in due.values_list("pk", "queued_at"):
        if LedgerJob.objects.filter(pk=pk, queued_at=queued_at).update(queued_at=Now()):
            send(pk)
            sent.append(pk)
    if sent:
        logger.info("ledger jobs sent again (no live worker held them): %s", sent)
    return sent


def stale_lease_counts() -> dict[str, int]:
    """Running jobs whose lease has expired, by kind (every kind present, zero or not)."""
    stale = LedgerJob.objects.filter(status=Status.RUNNING, lease_expires_at__lt=Now())
    by_kind = stale.order_by().values("kind").annotate(n=Count("pk"))
    return dict.fromkeys(LedgerJob.Kind.values, 0) | {row["kind"]: row["n"] for row in by_kind}
