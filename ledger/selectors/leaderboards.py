"""Leaderboards: users ranked by a counter or by win rate, read from the stats table (I1 makes
it the fold), best first, one keyset page at a time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.db.models import ExpressionWrapper, F, FloatField, Q, QuerySet
from django.db.models.functions import Cast

from ledger.models import UserProfileStats
from ledger.projections import LIFETIME_STATS
from ledger.routing import replica_read
from ledger.selectors.paging import Page, seek
from ledger.selectors.stats import StatsRow, ratio, with_derived

Board = Literal["tournaments_won", "matches_won", "win_rate", "total_earned"]

_COUNTER_BOARDS: Mapping[str, tuple[str, str | None]] = {
    # (value field, tie-breaker read in the index's own order): a backward scan of
    # ledger_stats_twon / ledger_stats_mwon / ledger_stats_earned serves these.
    "tournaments_won": ("tournaments_won", "tournaments_played"),
    "matches_won": ("matches_won", "matches_played"),
    "total_earned": ("total_earned", None),
}


@dataclass(frozen=True, slots=True)
class LeaderboardRow:
    user_id: int
    value: float
    tie: int
    rank: int
    stats: StatsRow


@dataclass(frozen=True, slots=True)
class BoardPosition:
    """A leaderboard cursor: the row's value, its tie-breaker, its user and its rank."""

    value: float
    tie: int
    user_id: int
    rank: int


@replica_read
def leaderboard_page(
    *, board: Board, first: int, after: BoardPosition | None = None
) -> Page[LeaderboardRow]:
    """Users ranked by ``board``, best first."""
    rows = list(leaderboard_query(board=board, first=first, after=after))
    rank_start = after.rank if after is not None else 0
    tie = "matches_played" if board == "win_rate" else _COUNTER_BOARDS[board][1]
    result = [
        LeaderboardRow(
            user_id=row["user_id"],
            value=(
                ratio(row["matches_won"], row["matches_played"])
                if board == "win_rate"
                else float(row[board])
            ),
            tie=row[tie] if tie else 0,
            rank=rank_start + i + 1,
            stats=with_derived(dict(row)),
        )
        for i, row in enumerate(rows[:first])
    ]
    return Page(rows=result, has_next=len(rows) > first, has_previous=after is not None)


def leaderboard_query(
    *, board: Board, first: int, after: BoardPosition | None = None
) -> QuerySet[Any]:
    """The one SELECT of a leaderboard page (one extra row), exposed so a test can EXPLAIN it.

    Counter boards order by (value desc, tie asc, user desc): PostgreSQL reads the stats index
    backwards (ledger_stats_twon / _mwon / _earned) and only sorts users tied on the indexed
    columns (an incremental sort). Win rate has no expression index in ledger's migrations: it
    ranks only users with at least ``settings.LEADERBOARD_MIN_MATCHES`` matches and sorts that
    subset; its cursor compares fractions exactly by cross-multiplying.
    """
    columns = (*LIFETIME_STATS.fields, "user_id")
    queryset = UserProfileStats.objects.all()
    if board == "win_rate":
        minimum = int(getattr(settings, "LEADERBOARD_MIN_MATCHES", 10))
        queryset = queryset.filter(matches_played__gte=max(minimum, 1)).annotate(
            rate=ExpressionWrapper(
                Cast("matches_won", FloatField()) / F("matches_played"), output_field=FloatField()
            )
        )
        if after is not None:
            # won/played < w/p  <=>  won*p < w*played (played > 0), exactly, in integers.
            won, played = int(after.value), after.tie
            queryset = queryset.alias(
                mine=F("matches_won") * played, theirs=F("matches_played") * won
            ).filter(Q(mine__lt=F("theirs")) | Q(mine=F("theirs"), user_id__lt=after.user_id))
        return queryset.order_by("-rate", "-user_id").values(*columns)[: first + 1]

    value, tie = _COUNTER_BOARDS[board]
    order = (f"-{value}", *([tie] if tie else []), "-user_id")
    if after is not None:
        position = (int(after.value), *([after.tie] if tie else []), after.user_id)
        queryset = queryset.filter(seek(order, position))
    return queryset.order_by(*order).values(*columns)[: first + 1]


def leaderboard_position(row: LeaderboardRow, *, board: Board) -> BoardPosition:
    """The cursor position of a row: for win rate, the exact fraction (won, played)."""
    if board == "win_rate":
        return BoardPosition(row.stats["matches_won"], row.tie, row.user_id, row.rank)
    return BoardPosition(row.value, row.tie, row.user_id, row.rank)
