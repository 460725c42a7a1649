"""Achievement: the platform's achievement as a Relay node (public)."""

from __future__ import annotations

import strawberry_django
from strawberry import relay

from esports.achievements.models import Achievement
from graphql_api.nodes.fields import ColumnField, instances_of


@strawberry_django.type(
    Achievement,
    field_cls=ColumnField,
    name="Achievement",
    description="An achievement as the platform has it now.",
)
class AchievementNode(relay.Node):
    is_type_of = instances_of(Achievement)

    code: str
    name: str
    description: str
