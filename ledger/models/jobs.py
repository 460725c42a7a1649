"""Operations on the ledger, recorded as jobs: who asked, what, how it went (the audit trail)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class LedgerJob(models.Model):
    """One run of an operation (backfill, reconcile, export, anonymize), from a command or the API.

    Parameters and results hold no personal data: an erased user appears only as the opaque id
    of their erased subject.
    """

    class Kind(models.TextChoices):
        BACKFILL = "backfill", "Backfill"
        RECONCILE = "reconcile", "Reconcile"
        EXPORT = "export", "GDPR export"
        ANONYMIZE = "anonymize", "GDPR anonymization"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

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
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="ledger_job_newest"),
            models.Index(fields=["status", "-created_at"], name="ledger_job_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk} ({self.status})"
