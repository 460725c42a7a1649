"""Backfill checkpoints: how far an unfinished backfill of each source got."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class BackfillCheckpoint(models.Model):
    """The last source pk whose batch committed, saved in that batch's transaction.

    A row with ``finished_at`` empty is a run in progress (or killed): the next run resumes after
    ``last_pk``. A finished row makes the next run start from the beginning again.
    """

    source = models.CharField(max_length=64, unique=True)
    last_pk = models.BigIntegerField(default=0)
    rows_done = models.BigIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"backfill of {self.source} after pk {self.last_pk}"
