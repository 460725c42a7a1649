"""The stats projection: the fold of a user's events, kept in step with every append (I1, I6)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

COUNTER_FIELDS: tuple[str, ...] = (
    "tournaments_registered",
    "tournaments_played",
    "tournaments_completed",
    "tournaments_won",
    "tournaments_runner_up",
    "tournaments_top4",
    "matches_played",
    "matches_won",
    "matches_lost",
    "total_earned",
    "total_spent",
    "achievements_count",
    "teams_created",
    "teams_joined",
    "current_teams_count",
)


def _counter(help_text: str, big: bool = False) -> models.Field:
    field_class = models.BigIntegerField if big else models.IntegerField
    return field_class(default=0, db_default=0, help_text=help_text)


class UserProfileStats(models.Model):
    """Derived, never edited by hand: written only by the ledger's write path and recompute."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="activity_stats",
    )
    tournaments_registered = _counter("Confirmed registrations")
    tournaments_played = _counter("Tournaments checked in to")
    tournaments_completed = _counter("Tournaments finished")
    tournaments_won = _counter("1st places")
    tournaments_runner_up = _counter("2nd places")
    tournaments_top4 = _counter("3rd and 4th places")
    matches_played = _counter("Matches played")
    matches_won = _counter("Matches won")
    matches_lost = _counter("Matches lost")
    total_earned = _counter("DeltaCoins earned", big=True)
    total_spent = _counter("DeltaCoins spent", big=True)
    achievements_count = _counter("Achievements unlocked")
    teams_created = _counter("Teams created")
    teams_joined = _counter("Team memberships started")
    current_teams_count = _counter("Team memberships not yet ended")
    last_activity_at = models.DateTimeField(null=True, blank=True)
    stats_updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "user profile stats"
        verbose_name_plural = "user profile stats"
        default_permissions = ("view",)
        indexes = [
            models.Index(
                fields=["tournaments_won", "-tournaments_played"], name="ledger_stats_twon"
            ),
            models.Index(fields=["matches_won", "-matches_played"], name="ledger_stats_mwon"),
            models.Index(fields=["total_earned"], name="ledger_stats_earned"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(**{f"{name}__gte": 0}), name=f"ledger_stats_{name}_gte_0"
            )
            for name in COUNTER_FIELDS
        ]

    def __str__(self) -> str:
        return f"stats of user {self.user_id}"

    @property
    def win_rate(self) -> Decimal:
        return _ratio(self.matches_won, self.matches_played)

    @property
    def tournament_win_rate(self) -> Decimal:
        return _ratio(self.tournaments_won, self.tournaments_played)

    @property
    def net_earnings(self) -> int:
        return self.total_earned - self.total_spent


def _ratio(part: int, whole: int) -> Decimal:
    if whole <= 0:
        return Decimal("0")
    return Decimal(part) / Decimal(whole)
