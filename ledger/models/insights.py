"""Projections beyond lifetime stats (issue 17): each row sums the deltas of the events folded
into it, kept by the one write path in the events' transaction (``ledger.projections``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from ledger.counters import GAME_COUNTER_FIELDS
from ledger.models.stats import CompetitionCounters, counter, non_negative


class UserGameStats(CompetitionCounters):
    """A player's tournament and match counters in one game: for each counter, the rows of a
    player sum to their lifetime stats."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        db_index=False,  # the (user, game) constraint's index leads with it
        related_name="activity_game_stats",
    )
    game = models.CharField(max_length=64)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    stats_updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "user game stats"
        verbose_name_plural = "user game stats"
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["user", "game"], name="ledger_game_stats_key"),
            *non_negative("ledger_game_stats", GAME_COUNTER_FIELDS),
        ]

    def __str__(self) -> str:
        return f"{self.game} stats of user {self.user_id}"


HEAD_TO_HEAD_COUNTER_FIELDS: tuple[str, ...] = ("matches_played", "matches_won", "matches_lost")
"""What a player's record against one opponent counts (solo and team matches alike)."""


class HeadToHead(models.Model):
    """A player's matches against one other player: every match where they stood on opposite
    sides (a team match pairs each member with each member of the other team). Symmetric: the
    row (a, b) counts b's row (b, a)'s wins as its losses."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        db_index=False,  # the (user, opponent) constraint's index leads with it
        related_name="activity_head_to_head",
    )
    opponent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    matches_played = counter("Matches against the opponent")
    matches_won = counter("Of those, won")
    matches_lost = counter("Of those, lost")
    last_match_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "head-to-head record"
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["user", "opponent"], name="ledger_h2h_key"),
            models.CheckConstraint(condition=~Q(user=models.F("opponent")), name="ledger_h2h_two"),
            *non_negative("ledger_h2h", HEAD_TO_HEAD_COUNTER_FIELDS),
        ]

    def __str__(self) -> str:
        return f"user {self.user_id} against {self.opponent_id}"


class AchievementHolders(models.Model):
    """How many players hold an achievement (net of revoked unlocks; erased players' taken out):
    the numerator of its rarity, one row per achievement code."""

    code = models.CharField(max_length=64, primary_key=True)
    holders = counter("Players who hold it")
    last_unlocked_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "achievement holders"
        default_permissions = ("view",)
        constraints = non_negative("ledger_holders", ("holders",))

    def __str__(self) -> str:
        return f"{self.code}: {self.holders}"


class PlayerCount(models.Model):
    """How many players have a stats row: rarity's denominator, one row kept by triggers on the
    stats table (migration 0302), so a rarity read never counts the stats table."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    players = models.BigIntegerField(default=0)

    class Meta:
        default_permissions = ("view",)
        constraints = [
            models.CheckConstraint(condition=Q(players__gte=0), name="ledger_players_gte_0"),
            models.CheckConstraint(condition=Q(id=1), name="ledger_players_one_row"),
        ]

    def __str__(self) -> str:
        return f"{self.players} players"
