"""What the ledger keeps of archived events (I9): the files, the once-keys, the baselines.

The events themselves leave the hot table for compressed files (one per month and part); the
database keeps which files exist and their checksums (``ArchivedFile``), a compact row per
archived event so that no backfill or save records it again (``ArchivedEvent``, I2), and the fold
of the archived events per projection row (``ProjectionBaseline``), so that every projection is
still its baseline plus the hot events (I1), docs/decisions/0017; and what streaks and recent
results read of the archived matches (``StreakBaseline``, ``RecentResultsBaseline``, 0027).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class ArchivedFile(models.Model):
    """One compressed file of archived events: a month's events, in (timestamp, id) order.

    A month archived again (events recorded for it after it was archived) gets another part.
    The row is written in the transaction that removes the events from the hot table, so a file
    is listed only once its events are gone from there; ``sha256`` is checked before any read.
    """

    month = models.DateField(help_text="The first day of the month (UTC) the events fall in.")
    part = models.PositiveIntegerField(default=1)
    revision = models.PositiveIntegerField(
        default=1, help_text="Each rewrite (an erasure) writes a new file under a new name."
    )
    name = models.CharField(max_length=200, unique=True, help_text="The file's name in storage.")
    rows = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    archived_at = models.DateTimeField(default=timezone.now)
    rewritten_at = models.DateTimeField(
        null=True, blank=True, help_text="When an erasure last rewrote it."
    )

    class Meta:
        default_permissions = ("view",)
        ordering = ["month", "part"]
        constraints = [
            models.UniqueConstraint(fields=["month", "part"], name="ledger_archive_month_part")
        ]

    def __str__(self) -> str:
        return self.name


class ArchivedEvent(models.Model):
    """An archived event's once-key and what convergence and recompute read of it: no metadata.

    Convergence treats these as recorded (never appended again, I2) and never reverses them:
    a correction does not reach before the archive horizon."""

    id = models.BigIntegerField(primary_key=True, help_text="The event's id in the hot table.")
    user_id = models.BigIntegerField(null=True, blank=True)
    erased_subject = models.ForeignKey(
        "ledger.ErasedSubject", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    event_type = models.CharField(max_length=32)
    timestamp = models.DateTimeField()
    source_model = models.CharField(max_length=64)
    source_id = models.BigIntegerField()
    occurrence = models.PositiveIntegerField(default=0)
    amount = models.BigIntegerField(default=0)
    reverses_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["source_model", "source_id"], name="ledger_archived_source"),
            models.Index(fields=["user_id"], name="ledger_archived_user"),
            # Which archived events a reversal cancelled, when the next month is archived.
            models.Index(
                fields=["reverses_id"],
                condition=Q(reverses_id__isnull=False),
                name="ledger_archived_reverses",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source_model", "source_id", "event_type", "user_id", "occurrence"],
                condition=Q(reverses_id__isnull=True),
                name="ledger_archived_once",
            )
        ]

    def __str__(self) -> str:
        return f"archived {self.event_type} {self.pk}"


class ProjectionBaseline(models.Model):
    """The fold of the archived events into one row of one projection (any of ``PROJECTIONS``):
    recompute and reconcile add it to the fold of the hot events."""

    projection = models.CharField(
        max_length=100, help_text="The projection's model label (e.g. ledger.userprofilestats)."
    )
    key = models.CharField(max_length=200, help_text="The row's key values, as a JSON list.")
    user_id = models.BigIntegerField(help_text="The user the row belongs to (its first key).")
    counters = models.JSONField(default=dict)
    latest = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ("view",)
        indexes = [models.Index(fields=["projection", "user_id"], name="ledger_baseline_user")]
        constraints = [
            models.UniqueConstraint(fields=["projection", "key"], name="ledger_baseline_key")
        ]

    def __str__(self) -> str:
        return f"baseline of {self.projection} {self.key}"


class StreakBaseline(models.Model):
    """The win runs of one user's archived decided matches of one month, of one game or of
    every game (``game`` empty): runs compose in month order, so streaks are still the runs of
    these rows, oldest month first, then of the hot matches (decision 0027)."""

    user_id = models.BigIntegerField()
    game = models.CharField(max_length=64, blank=True, help_text="Empty: every game.")
    month = models.DateField(help_text="The first day of the month (UTC) the matches fall in.")
    decided = models.PositiveIntegerField(help_text="Matches won or lost.")
    won = models.PositiveIntegerField()
    leading = models.PositiveIntegerField(help_text="Wins before the first loss.")
    trailing = models.PositiveIntegerField(help_text="Wins after the last loss.")
    longest = models.PositiveIntegerField(help_text="The longest run of wins.")

    class Meta:
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(
                fields=["user_id", "game", "month"], name="ledger_streak_baseline_key"
            )
        ]

    def __str__(self) -> str:
        return f"streak baseline of user {self.user_id} {self.game or 'all games'} {self.month}"


class RecentResultsBaseline(models.Model):
    """A user's newest archived matches played to a result (at most ``RECENT_KEPT``), newest
    first, so recent results continue past the archive horizon (decision 0027)."""

    user_id = models.BigIntegerField(primary_key=True)
    results = models.JSONField(
        default=list,
        help_text="[timestamp, source id, event id, outcome, game, match id] per match.",
    )

    class Meta:
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"archived recent results of user {self.user_id}"
