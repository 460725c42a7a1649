"""What the User node says of follows: counts (public) and whether the viewer follows them."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import Parent
from strawberry.types import Info

from graphql_api.context import viewer_of
from graphql_api.social.loaders import FollowersCountByUserId, FollowingCountByUserId, ViewerFollows


@strawberry.type
class UserFollows:
    """Fields the User node inherits (a list of users reads each in one query)."""

    @strawberry.field(description="How many players follow this player.")
    async def followers_count(self, root: Parent[Any], info: Info) -> int:
        return await FollowersCountByUserId.of(info).load(root.pk) or 0

    @strawberry.field(description="How many players this player follows.")
    async def following_count(self, root: Parent[Any], info: Info) -> int:
        return await FollowingCountByUserId.of(info).load(root.pk) or 0

    @strawberry.field(
        description="Whether the signed-in viewer follows this player (false when anonymous)."
    )
    async def viewer_follows(self, root: Parent[Any], info: Info) -> bool:
        viewer = viewer_of(info)
        if not viewer.is_authenticated:
            return False
        return bool(await ViewerFollows.of(info).load((int(viewer.pk), int(root.pk))))
