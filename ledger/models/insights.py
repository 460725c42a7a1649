"""Projections beyond lifetime stats (issue 17): each row sums the deltas of the events folded
into it, kept by the one write path in the events' transaction (``ledger.projections``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

GAME_COUNTER_FIELDS: tuple[str, ...] = (
    "tournaments_registered",
    "tournaments_played",
    "tournaments_completed",
    "tournaments_won",
    "tournaments_runner_up",
    "tournaments_top4",
    "matches_played",
    "matches_won",
    "matches_lost",
)
"""The lifetime counters a game splits: those of tournament and match events (which carry the
tournament's ``game`` in their metadata)."""


def _counter(help_text: str) -> models.IntegerField:
    return models.IntegerField(default=0, db_default=0, help_text=help_text)


def _non_negative(prefix: str, names: tuple[str, ...]) -> list[models.BaseConstraint]:
    return [
        models.CheckConstraint(condition=Q(**{f"{name}__gte": 0}), name=f"{prefix}_{name}_gte_0")
        for name in names
    ]


class UserGameStats(models.Model):
    """A player's tournament and match counters in one game: for each counter, the rows of a
    player sum to their lifetime stats."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        db_index=False,  # the (user, game) constraint's index leads with it
        related_name="activity_game_stats",
    )
    game = models.CharField(max_length=64)
    tournaments_registered = _counter("Confirmed registrations")
    tournaments_played = _counter("Tournaments checked in to")
    tournaments_completed = _counter("Tournaments finished")
    tournaments_won = _counter("1st places")
    tournaments_runner_up = _counter("2nd places")
    tournaments_top4 = _counter("3rd and 4th places")
    matches_played = _counter("Matches played")
    matches_won = _counter("Matches won")
    matches_lost = _counter("Matches lost")
    last_activity_at = models.DateTimeField(null=True, blank=True)
    stats_updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "user game stats"
        verbose_name_plural = "user game stats"
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["user", "game"], name="ledger_game_stats_key"),
            *_non_negative("ledger_game_stats", GAME_COUNTER_FIELDS),
        ]

    def __str__(self) -> str:
        return f"{self.game} stats of user {self.user_id}"
