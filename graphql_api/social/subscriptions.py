"""followingActivityAdded: new visible events of the players the viewer follows, live.

Like ``activityAdded``: it reads where the feed stands, joins the groups of the players it
follows, and then reads forward from its position whenever one of them commits, so a message the
channel layer lost is made up by the next. Following someone later joins their group too: the
follow announces itself to the viewer's own group (``publisher.py``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from contextlib import AsyncExitStack
from functools import partial

import strawberry
from channels.db import database_sync_to_async
from strawberry.types import Info

from graphql_api.activity.links import wanted_of
from graphql_api.activity.queries import FEED_CURSOR
from graphql_api.activity.types import ActivityEdge
from graphql_api.context import viewer_of
from graphql_api.pagination import decode_time_position
from graphql_api.permissions import require_signed_in
from graphql_api.social.feed import following_head, following_ids, following_rows_after
from graphql_api.social.publisher import FOLLOWS_CHANGED, following_group
from graphql_api.subscriptions.context import consumer_of
from graphql_api.subscriptions.forward import ForwardFeed
from graphql_api.subscriptions.groups import ACTIVITY_MESSAGE, user_group
from graphql_api.subscriptions.shared import heard_at

db = database_sync_to_async

JOINED_ONLY = "ledger.following.joined"
"""A message type nothing sends: listening for it only holds group memberships, whose activity
messages reach the subscription's own listener (a consumer hands a message to every listener
of its type)."""


@strawberry.type
class FollowingSubscriptions:
    @strawberry.subscription(
        description="New events of the players you follow (signed in), oldest first, as the "
        "following feed's typed edges. With `after` (an edge cursor of followingFeed or of this "
        "subscription): first every event after it, then live ones, no gap and no duplicate."
    )
    async def following_activity_added(
        self, info: Info, after: str | None = None
    ) -> AsyncGenerator[ActivityEdge, None]:
        start = decode_time_position(after, kind=FEED_CURSOR) if after else None
        viewer_id = int(require_signed_in(viewer_of(info)).pk)
        consumer = consumer_of(info)
        feed = ForwardFeed(
            info,
            wanted_of(info, ("node",)),
            key=("following", viewer_id),
            rows_after=partial(db(following_rows_after), follower_id=viewer_id),
            position=start,
        )
        if start is None:  # from now on: read before joining (as activityAdded does)
            feed.position = await db(following_head)(follower_id=viewer_id)
        async with AsyncExitStack() as memberships:
            messages = await memberships.enter_async_context(
                consumer.listen_to_channel(ACTIVITY_MESSAGE, groups=[following_group(viewer_id)])
            )
            joined: set[int] = set()

            async def join_followed() -> None:
                new = [
                    pk for pk in await db(following_ids)(follower_id=viewer_id) if pk not in joined
                ]
                if new:
                    await memberships.enter_async_context(
                        consumer.listen_to_channel(
                            JOINED_ONLY, groups=[user_group(pk) for pk in new]
                        )
                    )
                    joined.update(new)

            await join_followed()
            notified = time.monotonic()
            while True:
                async for edge in feed.edges(since=notified):
                    yield edge
                try:
                    message = await anext(messages)
                except StopAsyncIteration:
                    return
                if message.get(FOLLOWS_CHANGED):
                    notified = time.monotonic()
                    await join_followed()
                else:
                    notified = heard_at(message)
