"""me and user(username)."""

from __future__ import annotations

from typing import Any

import strawberry
from django.contrib.auth import get_user_model
from strawberry.types import Info

from graphql_api.context import db, viewer_of
from graphql_api.users.types import UserNode


def _user_with_profile(**lookup: Any) -> Any | None:
    return get_user_model().objects.select_related("profile").filter(**lookup).first()


@strawberry.type
class UserQueries:
    @strawberry.field(description="The signed-in viewer, or null for anonymous callers.")
    async def me(self, info: Info) -> UserNode | None:
        viewer = viewer_of(info)
        if not viewer.is_authenticated:
            return None
        user = await db(_user_with_profile)(pk=viewer.pk)
        return UserNode.from_user(user) if user is not None else None

    @strawberry.field(description="Anyone's public profile by username; null if none.")
    async def user(self, username: str) -> UserNode | None:
        user = await db(_user_with_profile)(username=username)
        return UserNode.from_user(user) if user is not None else None
