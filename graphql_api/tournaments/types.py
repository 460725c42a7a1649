"""Tournament history types: one node per tournament a player registered for."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from strawberry.relay import PageInfo
from strawberry.types import Info

from graphql_api.tournaments.loaders import TournamentsById
from graphql_api.tournaments.nodes import TournamentNode


@strawberry.type(description="How one tournament went for a player, from their standing events.")
class TournamentParticipation:
    tournament_id: strawberry.ID = strawberry.field(
        description="The tournament's database id.",
        deprecation_reason="Use `tournament { id }` (a global ID; decision 0009).",
    )
    tournament_name: str = strawberry.field(
        description="The tournament's name as its events recorded it."
    )
    registered_at: datetime
    registered: bool
    joined: bool = strawberry.field(description="Checked in: took part.")
    completed: bool
    placement: int | None = strawberry.field(description="1, 2, 3 or 4; null otherwise.")
    matches_played: int
    matches_won: int
    matches_lost: int
    coins_earned: int | None = strawberry.field(
        description="Coins earned in this tournament; null unless the viewer is the player or "
        "staff."
    )

    @strawberry.field(description="The tournament, as it is now; null if it no longer exists.")
    def tournament(self, info: Info) -> TournamentNode | None:
        # The page's tournaments in one query (graphql-core awaits the future).
        return cast("TournamentNode", TournamentsById.of(info).load(int(self.tournament_id)))


@strawberry.type
class TournamentParticipationEdge:
    cursor: str
    node: TournamentParticipation


@strawberry.type
class TournamentParticipationConnection:
    edges: list[TournamentParticipationEdge]
    page_info: PageInfo
