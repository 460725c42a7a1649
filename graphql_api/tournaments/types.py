"""Tournament history types: one node per tournament a player registered for."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.relay import PageInfo


@strawberry.type(description="How one tournament went for a player, from their standing events.")
class TournamentParticipation:
    tournament_id: strawberry.ID
    tournament_name: str
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


@strawberry.type
class TournamentParticipationEdge:
    cursor: str
    node: TournamentParticipation


@strawberry.type
class TournamentParticipationConnection:
    edges: list[TournamentParticipationEdge]
    page_info: PageInfo
