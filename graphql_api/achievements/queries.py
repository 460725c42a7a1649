"""achievement(code): one achievement by its code, with its rarity."""

from __future__ import annotations

import strawberry

from esports.achievements.models import Achievement
from graphql_api.achievements.types import AchievementNode
from graphql_api.context import db
from graphql_api.errors import BadInput, NotFound

CODE_LENGTH = 64


def _achievement(code: str) -> Achievement | None:
    return Achievement.objects.filter(code=code).first()


@strawberry.type
class AchievementQueries:
    @strawberry.field(description="An achievement by its code (public), with how rare it is.")
    async def achievement(self, code: str) -> AchievementNode:
        if not code.strip() or len(code) > CODE_LENGTH or "\x00" in code:
            raise BadInput(f"code must be 1 to {CODE_LENGTH} characters.", field="code")
        found = await db(_achievement)(code)
        if found is None:
            raise NotFound(f"No achievement with code {code!r}.", field="code")
        return found  # type: ignore[return-value]  # the model instance serves the node
