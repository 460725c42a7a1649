"""Team: the platform's team as a Relay node (public, rosters included, as the platform shows)."""

from __future__ import annotations

from typing import cast

import strawberry
import strawberry_django
from strawberry import Parent, relay
from strawberry.types import Info

from esports.teams.models import Team
from graphql_api.nodes.fields import ColumnField, platform_node
from graphql_api.teams.loaders import CurrentMembersByTeamId
from graphql_api.users.types import UserNode


@platform_node(Team, name="Team", description="A team as the platform has it now.")
class TeamNode(relay.Node):
    name: str = strawberry_django.field(
        field_cls=ColumnField, description="Its name now (events keep the name then)."
    )

    @strawberry.field(description="Its members now, earliest joined first.")
    def members(self, root: Parent[Team], info: Info) -> list[UserNode]:
        # The page's teams' members in one query (graphql-core awaits the future).
        return cast("list[UserNode]", CurrentMembersByTeamId.of(info).load(root.pk))
