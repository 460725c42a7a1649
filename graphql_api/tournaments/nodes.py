"""Tournament and Match: the platform's rows as Relay nodes (public, as the platform shows them)."""

from __future__ import annotations

from datetime import datetime

import strawberry
import strawberry_django
from strawberry import relay

from esports.tournaments.models import Match, Tournament
from graphql_api.nodes.fields import ColumnField, platform_node

strawberry.enum(Tournament.Status, name="TournamentStatus")
strawberry.enum(Match.State, name="MatchState")


@platform_node(
    Tournament, name="Tournament", description="A tournament as the platform has it now."
)
class TournamentNode(relay.Node):
    name: str = strawberry_django.field(
        field_cls=ColumnField, description="Its name now (events keep the name then)."
    )
    game: str
    status: Tournament.Status
    starts_at: datetime
    team_size: int = strawberry_django.field(
        field_cls=ColumnField, description="Players per side; 1 is solo."
    )


@platform_node(Match, name="Match", description="A match as the platform has it now.")
class MatchNode(relay.Node):
    round: int
    state: Match.State
    completed_at: datetime | None
    tournament: TournamentNode
