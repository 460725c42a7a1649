"""Achievement rarity: the share of players with a stats row who hold an achievement.

Two reads by primary key (decision 0022): the code's holders row and the one-row player count
that triggers keep beside the stats table; no count over the stats table or the events.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from ledger.models import AchievementHolders, PlayerCount

TIERS: tuple[tuple[float, str], ...] = (
    (5.0, "ultra_rare"),
    (10.0, "very_rare"),
    (20.0, "rare"),
    (50.0, "uncommon"),
)
"""Below each percentage, its tier (the first that fits); from 50% on, common."""


@dataclass(frozen=True, slots=True)
class Rarity:
    holders: int
    players: int

    @property
    def percent(self) -> float:
        """0 to 100; 0 while there are no players."""
        return 100.0 * self.holders / self.players if self.players > 0 else 0.0

    @property
    def tier(self) -> str:
        percent = self.percent
        return next((tier for below, tier in TIERS if percent < below), "common")


def player_count() -> int:
    return PlayerCount.objects.filter(id=1).values_list("players", flat=True).first() or 0


def achievement_rarity(*, codes: Collection[str]) -> dict[str, Rarity]:
    """Each code's holders and the player count: two primary-key reads for any batch."""
    holders = dict(
        AchievementHolders.objects.filter(code__in=list(codes)).values_list("code", "holders")
    )
    players = player_count()
    return {code: Rarity(holders.get(code, 0), players) for code in codes}
