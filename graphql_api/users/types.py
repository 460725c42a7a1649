"""The User node: identity, profile and (public) stats."""

from __future__ import annotations

from typing import Any

import strawberry

from graphql_api.context import db
from graphql_api.stats.types import UserStats
from ledger.selectors import user_stats


@strawberry.type(description="A player's public profile.")
class Profile:
    display_name: str
    activity_public: bool = strawberry.field(
        description="Whether others may see this player's activity feed and history."
    )


@strawberry.type(name="User", description="A player. Its id is what every userId argument takes.")
class UserNode:
    id: strawberry.ID
    username: str
    profile: Profile
    preloaded_stats: strawberry.Private[dict[str, Any] | None] = None

    @strawberry.field(description="Lifetime stats (public).")
    async def stats(self) -> UserStats:
        values = self.preloaded_stats
        if values is None:
            values = await db(user_stats)(user_id=int(self.id))
        return UserStats.from_values(values)

    @classmethod
    def from_user(cls, user: Any, *, stats: dict[str, Any] | None = None) -> UserNode:
        profile = getattr(user, "profile", None)
        username = user.get_username()
        return cls(
            id=strawberry.ID(str(user.pk)),
            username=username,
            profile=Profile(
                display_name=(profile.display_name if profile else "") or username,
                activity_public=bool(profile.activity_public) if profile else False,
            ),
            preloaded_stats=stats,
        )
