"""activityFeed and activityEvent: visibility checked here, rows from ledger.selectors."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from graphql_api.activity.types import (
    ActivityConnection,
    ActivityEdge,
    ActivityEvent,
    ActivityFilter,
)
from graphql_api.context import db, load_subject, subject_of, viewer_of
from graphql_api.errors import BadInput, NotFound
from graphql_api.pagination import encode_cursor, page_info, parse_id, to_page_request
from graphql_api.permissions import can_see_activity, can_see_economy, require_activity
from ledger.filters import InvalidFilterError
from ledger.selectors import activity_event, activity_feed_page, is_economy_row

FEED_CURSOR = "feed"


def _visible_event(viewer: Any, event_id: int) -> dict[str, Any] | None:
    """The event if this viewer may see it: same rules as the feed, else None (not found)."""
    row = activity_event(event_id=event_id)
    if row is None:
        return None
    owner_id = row["user_id"]
    subject = load_subject(owner_id) if owner_id is not None else None
    public = subject.activity_public if subject else False
    if not can_see_activity(viewer, owner_id=owner_id, activity_public=public):
        return None
    if is_economy_row(row) and not can_see_economy(viewer, owner_id=owner_id):
        return None
    return row


@strawberry.type
class ActivityQueries:
    @strawberry.field(
        description="A player's feed (userId omitted: the viewer), newest first; "
        "first/after or last/before, 50 by default, at most 100."
    )
    async def activity_feed(
        self,
        info: Info,
        user_id: strawberry.ID | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: ActivityFilter | None = None,
    ) -> ActivityConnection:
        request = to_page_request(
            kind=FEED_CURSOR, first=first, after=after, last=last, before=before
        )
        subject = await subject_of(info, user_id)
        viewer = viewer_of(info)
        require_activity(viewer, owner_id=subject.user_id, activity_public=subject.activity_public)
        try:
            page = await db(activity_feed_page)(
                user_id=subject.user_id,
                request=request,
                filters=filter.as_data() if filter else None,
                include_economy=can_see_economy(viewer, owner_id=subject.user_id),
            )
        except InvalidFilterError as error:
            raise BadInput(str(error), field="filter") from None
        edges = [
            ActivityEdge(
                cursor=encode_cursor(FEED_CURSOR, row["timestamp"], row["id"]),
                node=ActivityEvent.from_row(row),
            )
            for row in page.rows
        ]
        return ActivityConnection(edges=edges, page_info=page_info(page, [e.cursor for e in edges]))

    @strawberry.field(description="One event by id, if the viewer may see it.")
    async def activity_event(self, info: Info, id: strawberry.ID) -> ActivityEvent:
        event_id = parse_id(id, what="id")
        row = await db(_visible_event)(viewer_of(info), event_id)
        if row is None:
            raise NotFound(f"No activity event {event_id} visible to you.", field="id")
        return ActivityEvent.from_row(row)
