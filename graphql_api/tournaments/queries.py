"""tournamentHistory: one grouped query per page, whatever the number of tournaments."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from esports.tournaments.history import tournament_history_page
from graphql_api.context import db, subject_of, viewer_of
from graphql_api.pagination import encode_cursor, page_info, to_page_request
from graphql_api.permissions import can_see_economy, require_activity
from graphql_api.tournaments.types import (
    TournamentParticipation,
    TournamentParticipationConnection,
    TournamentParticipationEdge,
)

HISTORY_CURSOR = "history"


@strawberry.type
class TournamentQueries:
    @strawberry.field(description="Tournaments the player registered for, newest first.")
    async def tournament_history(
        self,
        info: Info,
        user_id: strawberry.ID | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> TournamentParticipationConnection:
        request = to_page_request(kind=HISTORY_CURSOR, first=first, after=after)
        subject = await subject_of(info, user_id)
        viewer = viewer_of(info)
        require_activity(viewer, owner_id=subject.user_id, activity_public=subject.activity_public)
        economy = can_see_economy(viewer, owner_id=subject.user_id)
        page = await db(tournament_history_page)(user_id=subject.user_id, request=request)
        edges = [
            TournamentParticipationEdge(
                cursor=encode_cursor(HISTORY_CURSOR, row.registered_at, row.tournament_id),
                node=TournamentParticipation(
                    tournament_id=strawberry.ID(str(row.tournament_id)),
                    tournament_name=row.tournament_name,
                    registered_at=row.registered_at,
                    registered=row.registered,
                    joined=row.joined,
                    completed=row.completed,
                    placement=row.placement,
                    matches_played=row.matches_played,
                    matches_won=row.matches_won,
                    matches_lost=row.matches_lost,
                    coins_earned=row.coins_earned if economy else None,
                ),
            )
            for row in page.rows
        ]
        return TournamentParticipationConnection(
            edges=edges, page_info=page_info(page, [e.cursor for e in edges])
        )
