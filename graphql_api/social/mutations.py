"""followPlayer and unfollowPlayer: the signed-in viewer's follows; both idempotent."""

from __future__ import annotations

import strawberry
from django.db import transaction
from strawberry.types import Info

from esports.social.services import (
    CannotFollowSelf,
    NoSuchPlayer,
    follow_player,
    unfollow_player,
)
from graphql_api.context import db, no_such_user, viewer_of
from graphql_api.errors import BadInput
from graphql_api.jobs.types import UserIdInput
from graphql_api.nodes.ids import parse_user_id
from graphql_api.permissions import require_signed_in
from graphql_api.social.publisher import announce_follows_changed
from graphql_api.users.loaders import UsersById
from graphql_api.users.types import UserNode


def _follow(*, follower_id: int, followed_id: int, follow: bool) -> None:
    """Write the follow, and tell the viewer's following subscriptions after the commit."""
    with transaction.atomic():
        if follow:
            changed = follow_player(follower_id=follower_id, followed_id=followed_id)
        else:
            changed = unfollow_player(follower_id=follower_id, followed_id=followed_id)
        if changed:
            transaction.on_commit(lambda: announce_follows_changed(follower_id=follower_id))


async def _change(info: Info, input: UserIdInput, *, follow: bool) -> UserNode:
    viewer = require_signed_in(viewer_of(info))
    followed_id = parse_user_id(input.user_id)
    try:
        await db(_follow)(follower_id=int(viewer.pk), followed_id=followed_id, follow=follow)
    except CannotFollowSelf as error:
        raise BadInput(str(error), field="userId") from None
    except NoSuchPlayer:
        raise no_such_user(followed_id) from None
    user = (await db(UsersById.fetch)([followed_id])).get(followed_id)
    if user is None:  # unfollowing someone who does not exist
        raise no_such_user(followed_id)
    return UserNode.from_user(user)


@strawberry.type
class SocialMutations:
    @strawberry.mutation(
        description="Follow a player (signed in): their visible events join your followingFeed. "
        "Following someone you follow already changes nothing; you cannot follow yourself."
    )
    async def follow_player(self, info: Info, input: UserIdInput) -> UserNode:
        return await _change(info, input, follow=True)

    @strawberry.mutation(
        description="Stop following a player (signed in); nothing changes if you did not follow "
        "them."
    )
    async def unfollow_player(self, info: Info, input: UserIdInput) -> UserNode:
        return await _change(info, input, follow=False)
