"""Per-game stats: a player's tournament and match counters in each game they played."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from ledger.models import UserGameStats
from ledger.projections import GAME_STATS, LIFETIME_STATS
from ledger.routing import replica_read
from ledger.selectors.stats import StatsRow, with_derived


@dataclass(frozen=True, slots=True)
class GameStats:
    game: str
    stats: StatsRow


def _as_stats(values: dict[str, object]) -> StatsRow:
    """A game row read as lifetime stats: the counters a game does not split (coins,
    achievements, teams) read 0, and the rates are the game's own."""
    row: StatsRow = {**dict.fromkeys(LIFETIME_STATS.counters, 0), LIFETIME_STATS.latest: None}
    row.update({name: values[name] for name in GAME_STATS.fields})
    return with_derived(row)


@replica_read
def game_stats(*, user_id: int, game: str) -> StatsRow:
    """A player's stats in one game, by the (user, game) key; zeros where they never played it."""
    row = (
        UserGameStats.objects.filter(user_id=user_id, game=game).values(*GAME_STATS.fields).first()
    )
    return _as_stats(row or {**dict.fromkeys(GAME_STATS.counters, 0), GAME_STATS.latest: None})


@replica_read
def games_by_user(*, user_ids: Collection[int]) -> dict[int, list[GameStats]]:
    """Each player's games, by name, in one query (a page of players)."""
    rows = (
        UserGameStats.objects.filter(user_id__in=list(user_ids))
        .order_by("user_id", "game")
        .values("user_id", "game", *GAME_STATS.fields)
    )
    found: dict[int, list[GameStats]] = defaultdict(list)
    for row in rows:
        found[row["user_id"]].append(GameStats(row["game"], _as_stats(row)))
    return {user_id: found.get(user_id, []) for user_id in user_ids}
