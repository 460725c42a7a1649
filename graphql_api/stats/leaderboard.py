"""Leaderboard connection types (they name users, so they live apart from the stats types)."""

from __future__ import annotations

import strawberry
from strawberry.relay import PageInfo

from graphql_api.users.types import UserNode


@strawberry.type(description="One ranked player.")
class LeaderboardEntry:
    rank: int
    value: float = strawberry.field(description="The ranked value (a count, coins, or 0..1).")
    user: UserNode


@strawberry.type
class LeaderboardEdge:
    cursor: str
    node: LeaderboardEntry


@strawberry.type
class LeaderboardConnection:
    edges: list[LeaderboardEdge]
    page_info: PageInfo
