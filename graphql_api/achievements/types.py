"""Achievement: the platform's achievement as a Relay node (public)."""

from __future__ import annotations

import strawberry_django
from strawberry import relay

from esports.achievements.models import Achievement


@strawberry_django.type(
    Achievement, name="Achievement", description="An achievement as the platform has it now."
)
class AchievementNode(relay.Node):
    code: str
    name: str
    description: str
