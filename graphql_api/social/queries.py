"""followingFeed: the signed-in viewer's followed players' events, newest first."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from graphql_api.activity.events import linked_events
from graphql_api.activity.links import Wanted, wanted_of
from graphql_api.activity.queries import FEED_CURSOR, feed_connection
from graphql_api.activity.types import ActivityConnection, ActivityEvent
from graphql_api.context import db, viewer_of
from graphql_api.pagination import to_page_request
from graphql_api.permissions import Viewer, require_signed_in
from graphql_api.social.feed import following_feed_page
from ledger.selectors import Page, PageRequest


def _page(
    *, viewer: Viewer, wanted: Wanted, follower_id: int, request: PageRequest
) -> tuple[Page[dict[str, Any]], list[ActivityEvent | None]]:
    """The page and its events with their links, in one trip to Django's thread. The page's own
    statements show only what any signed-in viewer may see: public players, no economy events."""
    rows = following_feed_page(follower_id=follower_id, request=request)
    events = linked_events(rows.rows, viewer=viewer, wanted=wanted, check_visibility=False)
    return rows, events


@strawberry.type
class SocialQueries:
    @strawberry.field(
        description="The events of the players you follow (signed in), newest first, as one "
        "feed: public players only, no economy events, their history included. 50 by default, "
        "at most 100."
    )
    async def following_feed(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> ActivityConnection:
        request = to_page_request(kind=FEED_CURSOR, first=first, after=after)
        viewer = require_signed_in(viewer_of(info))
        page, events = await db(_page)(
            viewer=viewer,
            wanted=wanted_of(info, ("edges", "node")),
            follower_id=int(viewer.pk),
            request=request,
        )
        return feed_connection(page, events)
