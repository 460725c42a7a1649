"""The stats projection: the fold of a user's events, kept in step with every append (I1, I6)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from ledger.counters import COUNTER_FIELDS


def counter(help_text: str, big: bool = False) -> models.Field:
    """A counter column: starts at 0, in the database too."""
    field_class = models.BigIntegerField if big else models.IntegerField
    return field_class(default=0, db_default=0, help_text=help_text)


def non_negative(prefix: str, names: tuple[str, ...]) -> list[models.BaseConstraint]:
    """A ``>= 0`` check constraint for each counter (I6)."""
    return [
        models.CheckConstraint(condition=Q(**{f"{name}__gte": 0}), name=f"{prefix}_{name}_gte_0")
        for name in names
    ]


class CompetitionCounters(models.Model):
    """The tournament and match counters (``GAME_COUNTER_FIELDS``): a player's for their whole
    career (``UserProfileStats``) or in one game (``UserGameStats``)."""

    tournaments_registered = counter("Confirmed registrations")
    tournaments_played = counter("Tournaments checked in to")
    tournaments_completed = counter("Tournaments finished")
    tournaments_won = counter("1st places")
    tournaments_runner_up = counter("2nd places")
    tournaments_top4 = counter("3rd and 4th places")
    matches_played = counter("Matches played")
    matches_won = counter("Matches won")
    matches_lost = counter("Matches lost")

    class Meta:
        abstract = True


class UserProfileStats(CompetitionCounters):
    """Derived, never edited by hand: written only by the ledger's write path and recompute."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="activity_stats",
    )
    total_earned = counter("DeltaCoins earned", big=True)
    total_spent = counter("DeltaCoins spent", big=True)
    achievements_count = counter("Achievements unlocked")
    teams_created = counter("Teams created")
    teams_joined = counter("Team memberships started")
    current_teams_count = counter("Team memberships not yet ended")
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
        constraints = non_negative("ledger_stats", COUNTER_FIELDS)

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
