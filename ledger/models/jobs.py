"""Operations on the ledger, recorded as jobs: who asked, what, how it went (the audit trail).

A running job is held by a lease (owner, expiry) that its worker renews; a job whose worker
died is taken again once the lease has expired (``ledger/operations/jobs.py``,
docs/decisions/0013).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class LedgerJob(models.Model):
    """One run of an operation (backfill, reconcile, export, anonymize, archive), from a command
    or the API.

    Parameters and results hold no personal data: an erased user appears only as the opaque id
    of their erased subject.
    """

    class Kind(models.TextChoices):
        BACKFILL = "backfill", "Backfill"
        RECONCILE = "reconcile", "Reconcile"
        EXPORT = "export", "GDPR export"
        ANONYMIZE = "anonymize", "GDPR anonymization"
        ARCHIVE = "archive", "Archive"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELLED})

    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    parameters = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ledger_jobs",
        help_text="Who asked; empty for the command line or a schedule.",
    )
    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, help_text="The error that made the job fail.")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(
        default=timezone.now,
        help_text="When it was last put in line to run (created, or its task message sent).",
    )
    attempts = models.PositiveIntegerField(
        default=0, help_text="Times a worker took it (LEDGER_JOB_MAX_ATTEMPTS at most)."
    )
    attempt_errors = models.JSONField(
        default=list,
        blank=True,
        help_text="Why each failed attempt ended: [{attempt, worker, at, error}], oldest first.",
    )
    lease_owner = models.CharField(
        max_length=200, blank=True, help_text="The worker running it (host:pid:attempt token)."
    )
    lease_expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Its worker's heartbeat keeps this ahead; once past, another worker takes it.",
    )
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cancelled_ledger_jobs",
    )
    subject_digest = models.CharField(
        max_length=64,
        blank=True,
        help_text="Anonymization: the keyed digest of its subject (as ErasedSubject keeps it), "
        "so a worker can take the job again without the user id, which only its message holds.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="ledger_job_newest"),
            models.Index(fields=["status", "-created_at"], name="ledger_job_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk} ({self.status})"

    @property
    def lease_stale(self) -> bool:
        """Running, but its worker has not renewed the lease in time (dead, or cut off)."""
        return (
            self.status == self.Status.RUNNING
            and self.lease_expires_at is not None
            and self.lease_expires_at < timezone.now()
        )
