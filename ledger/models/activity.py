"""The append-only activity ledger (invariants I2, I4, I7, I8)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ledger.exceptions import ImmutableEventError


class EventType(models.TextChoices):
    # Tournament events
    TOURNAMENT_REGISTERED = "tournament_registered", "Registered for tournament"
    TOURNAMENT_JOINED = "tournament_joined", "Tournament started (check-in complete)"
    TOURNAMENT_COMPLETED = "tournament_completed", "Tournament finished"
    TOURNAMENT_WON = "tournament_won", "Won tournament (1st place)"
    TOURNAMENT_RUNNER_UP = "tournament_runner_up", "Tournament runner-up (2nd)"
    TOURNAMENT_TOP4 = "tournament_top4", "Tournament top 4 placement"
    # Match events
    MATCH_PLAYED = "match_played", "Played match"
    MATCH_WON = "match_won", "Won match"
    MATCH_LOST = "match_lost", "Lost match"
    # Economy events
    COINS_EARNED = "coins_earned", "Earned DeltaCoins"
    COINS_SPENT = "coins_spent", "Spent DeltaCoins"
    # Achievement events
    ACHIEVEMENT_UNLOCKED = "achievement_unlocked", "Unlocked achievement"
    # Team events
    TEAM_CREATED = "team_created", "Created team"
    TEAM_JOINED = "team_joined", "Joined team"
    TEAM_LEFT = "team_left", "Left team"
    # Corrections (I8): cancels the event it points at
    REVERSAL = "reversal", "Correction"


_unguarded: ContextVar[bool] = ContextVar("ledger_unguarded_writes", default=False)


@contextlib.contextmanager
def unguarded_event_writes() -> Iterator[None]:
    """Open the model-layer guard for the ledger's own audited paths (anonymization) only."""
    token = _unguarded.set(True)
    try:
        yield
    finally:
        _unguarded.reset(token)


_archiving: ContextVar[bool] = ContextVar("ledger_archive_removal", default=False)


@contextlib.contextmanager
def archived_event_removal() -> Iterator[None]:
    """Open the model-layer guard for one thing: the archive removing the rows it has moved to
    a file (``Recorder.remove_archived``), in the transaction that records them as archived."""
    token = _archiving.set(True)
    try:
        yield
    finally:
        _archiving.reset(token)


def _refuse(action: str) -> NoReturn:
    raise ImmutableEventError(
        f"UserActivity rows are append-only: {action} is refused. Record events through "
        "ledger.services.recording.record_activity; erase a user with anonymize_user; move old "
        "events to the archive with archive_activity."
    )


class UserActivityQuerySet(models.QuerySet["UserActivity"]):
    """Refuses bulk writes that would bypass the one write path or edit history."""

    def update(self, **kwargs: Any) -> int:
        if not _unguarded.get():
            _refuse("QuerySet.update()")
        return super().update(**kwargs)

    def delete(self) -> NoReturn:
        _refuse("QuerySet.delete()")

    def _raw_delete(self, using: Any) -> int:
        if not _archiving.get():
            _refuse("deletion")
        return int(super()._raw_delete(using))

    def bulk_update(self, objs: Any, fields: Any, batch_size: Any = None) -> NoReturn:
        _refuse("bulk_update()")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("bulk_create() outside the write path")

    def update_or_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("update_or_create()")


UserActivityManager = models.Manager.from_queryset(UserActivityQuerySet)


class UserActivity(models.Model):
    """One thing a user did, as the platform's rows tell it. Never updated, never deleted."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,  # covered by the (user, timestamp, id) feed index
        related_name="activities",
    )
    erased_subject = models.ForeignKey(
        "ledger.ErasedSubject",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
        help_text="Set instead of user once the user was erased (GDPR Article 17).",
    )
    event_type = models.CharField(max_length=32, choices=EventType.choices)
    timestamp = models.DateTimeField(help_text="When it happened (historical for backfills).")
    created_at = models.DateTimeField(
        default=timezone.now, help_text="When the ledger learned of it."
    )
    metadata = models.JSONField(default=dict, blank=True)
    source_model = models.CharField(max_length=64)
    source_id = models.BigIntegerField()
    occurrence = models.PositiveIntegerField(
        default=0,
        help_text="How many earlier events of this source, type and user were reversed: "
        "lets a reversed outcome happen again.",
    )
    amount = models.BigIntegerField(default=0, help_text="Coins, positive, for economy events.")
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        help_text="For a reversal: the event it cancels.",
    )

    objects = UserActivityManager()

    class Meta:
        verbose_name = "user activity"
        verbose_name_plural = "user activities"
        ordering = ["-timestamp", "-id"]
        default_permissions = ("view",)
        permissions = [("view_activity_feed", "Can view activity feed")]
        indexes = [
            models.Index(fields=["user", "-timestamp", "-id"], name="ledger_activity_feed"),
            # The feed without coin events (what others see, and the following feed's
            # per-player probe, decision 0023): a probe need not step over a coin history.
            models.Index(
                fields=["user", "-timestamp", "-id"],
                name="ledger_activity_feed_shown",
                condition=~Q(event_type__in=[EventType.COINS_EARNED, EventType.COINS_SPENT]),
            ),
            models.Index(fields=["event_type", "-timestamp"], name="ledger_activity_type_time"),
            models.Index(
                fields=["user", "event_type", "timestamp"], name="ledger_activity_user_type"
            ),
            models.Index(fields=["source_model", "source_id"], name="ledger_activity_source"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source_model", "source_id", "event_type", "user", "occurrence"],
                condition=Q(reverses__isnull=True),
                name="ledger_activity_once",
            ),
            models.CheckConstraint(
                condition=(Q(event_type="reversal") & Q(reverses__isnull=False))
                | (~Q(event_type="reversal") & Q(reverses__isnull=True)),
                name="ledger_activity_reversal_points_at_event",
            ),
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(erased_subject__isnull=True))
                | (Q(user__isnull=True) & Q(erased_subject__isnull=False)),
                name="ledger_activity_one_subject",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="ledger_activity_amount_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} by {self.user_id} at {self.timestamp:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not _unguarded.get():
            _refuse("Model.save()")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("Model.delete()")
