"""stats, statsByPeriod, economySummary and leaderboard: thin resolvers over read models."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

import strawberry
from django.contrib.auth import get_user_model
from strawberry.types import Info

from esports.economy.summary import economy_summary
from graphql_api.context import db, no_such_user, requested_user_id, subject_of, viewer_of
from graphql_api.errors import BadInput
from graphql_api.pagination import MAX_ID, decode_cursor, encode_cursor, page_info
from graphql_api.permissions import require_economy
from graphql_api.stats.leaderboard import LeaderboardConnection, LeaderboardEdge, LeaderboardEntry
from graphql_api.stats.types import (
    EconomySummaryType,
    LeaderboardBy,
    PeriodCounters,
    ReasonTotals,
    StatsPeriod,
    UserStats,
)
from graphql_api.users.types import UserNode
from ledger.selectors import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    BoardPosition,
    LeaderboardRow,
    Page,
    existing_user_stats,
    game_stats,
    leaderboard_page,
    leaderboard_position,
    stats_by_period,
)


def _leaderboard(
    board: str, first: int, after: BoardPosition | None
) -> tuple[Page[LeaderboardRow], dict[int, Any]]:
    """The page and its users with profiles: two queries whatever the page size."""
    page = leaderboard_page(board=board, first=first, after=after)  # type: ignore[arg-type]
    users = get_user_model().objects.select_related("profile")
    by_id = {u.pk: u for u in users.filter(pk__in=[row.user_id for row in page.rows])}
    return page, by_id


def _decode_board_cursor(cursor: str, board: str) -> BoardPosition:
    value, tie, user_id, rank = decode_cursor(cursor, kind=f"lb-{board}", arity=4)
    try:
        position = BoardPosition(float(value), int(tie), int(user_id), int(rank))
    except ValueError:
        raise BadInput(f"Malformed cursor {cursor!r}.", field="after") from None
    numbers = (position.value, position.tie, position.user_id, position.rank)
    if not all(math.isfinite(n) and 0 <= n <= MAX_ID for n in numbers):
        raise BadInput(f"Malformed cursor {cursor!r}.", field="after")
    return position


GAME_NAME_LENGTH = 64
"""As long as a tournament's ``game`` may be."""


def _game(game: str) -> str:
    """A game name as tournaments store it, or a clear error."""
    if not game.strip() or len(game) > GAME_NAME_LENGTH or "\x00" in game:
        raise BadInput(
            f"game must be a game's name, 1 to {GAME_NAME_LENGTH} characters.", field="game"
        )
    return game


@strawberry.type
class StatsQueries:
    @strawberry.field(
        description="A player's lifetime stats (public), or with `game` their stats in that game; "
        "userId omitted: the viewer."
    )
    async def stats(
        self, info: Info, user_id: strawberry.ID | None = None, game: str | None = None
    ) -> UserStats:
        number = requested_user_id(info, user_id)
        values = await db(existing_user_stats)(user_id=number)  # stats are public: no subject
        if values is None:
            raise no_such_user(number)
        if game is not None:
            values = await db(game_stats)(user_id=number, game=_game(game))
        return UserStats.from_values(values)

    @strawberry.field(
        description="The counters per year, month or week (of one game, with `game`), from "
        "events, net of reversals."
    )
    async def stats_by_period(
        self,
        info: Info,
        period: StatsPeriod,
        user_id: strawberry.ID | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        game: str | None = None,
    ) -> list[PeriodCounters]:
        subject = await subject_of(info, user_id)
        if from_ is not None and to is not None and from_ >= to:
            raise BadInput("from must be before to.", field="from")
        periods = await db(stats_by_period)(
            user_id=subject.user_id,
            period=period.value,
            start=from_,
            end=to,
            game=None if game is None else _game(game),
        )
        return [PeriodCounters(period_start=p.period_start, **p.counters) for p in periods]

    @strawberry.field(description="Coins earned, spent, net and by reason (owner and staff).")
    async def economy_summary(
        self, info: Info, user_id: strawberry.ID | None = None
    ) -> EconomySummaryType:
        subject = await subject_of(info, user_id)
        require_economy(viewer_of(info), owner_id=subject.user_id)
        summary = await db(economy_summary)(user_id=subject.user_id)
        return EconomySummaryType(
            earned=summary.earned,
            spent=summary.spent,
            net=summary.net,
            by_reason=[
                ReasonTotals(reason=r.reason, earned=r.earned, spent=r.spent)
                for r in summary.by_reason
            ],
        )

    @strawberry.field(
        description="Players ranked, best first; WIN_RATE needs a minimum of matches."
    )
    async def leaderboard(
        self,
        by: LeaderboardBy,
        first: int | None = None,
        after: str | None = None,
    ) -> LeaderboardConnection:
        size = DEFAULT_PAGE_SIZE if first is None else first
        if not 0 <= size <= MAX_PAGE_SIZE:
            raise BadInput(f"first must be between 0 and {MAX_PAGE_SIZE}.", field="first")
        board = by.value
        position = _decode_board_cursor(after, board) if after else None
        page, users = await db(_leaderboard)(board, size, position)
        edges = []
        for row in page.rows:
            at = leaderboard_position(row, board=board)  # type: ignore[arg-type]
            cursor = encode_cursor(f"lb-{board}", at.value, at.tie, at.user_id, at.rank)
            user = UserNode.from_user(users[row.user_id], stats=row.stats)
            edges.append(
                LeaderboardEdge(
                    cursor=cursor, node=LeaderboardEntry(rank=row.rank, value=row.value, user=user)
                )
            )
        return LeaderboardConnection(
            edges=edges, page_info=page_info(page, [e.cursor for e in edges])
        )
