"""activityFeed and activityEvent: visibility checked here, rows from ledger.selectors."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.activity.events import EVENT_TYPE_OF_NODE, event_node
from graphql_api.activity.loaders import EventRowsById
from graphql_api.activity.types import (
    ActivityConnection,
    ActivityEdge,
    ActivityEvent,
    ActivityFilter,
)
from graphql_api.activity.visibility import visible_rows
from graphql_api.context import db, subject_of, viewer_of
from graphql_api.errors import BadInput, NotFound
from graphql_api.nodes.ids import parse_typed_id
from graphql_api.pagination import encode_cursor, page_info, to_page_request
from graphql_api.permissions import can_see_economy, require_activity
from ledger.filters import InvalidFilterError
from ledger.selectors import activity_feed_page

FEED_CURSOR = "feed"
EVENT_NODE_TYPES = frozenset(EVENT_TYPE_OF_NODE)


def feed_edge(row: dict[str, object]) -> ActivityEdge:
    """A feed row as an edge: the same for a page and for a subscription's new events."""
    return ActivityEdge(
        cursor=encode_cursor(FEED_CURSOR, row["timestamp"], row["id"]), node=event_node(row)
    )


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
        edges = [feed_edge(row) for row in page.rows]
        return ActivityConnection(edges=edges, page_info=page_info(page, [e.cursor for e in edges]))

    @strawberry.field(
        description="One event by id (a global ID, or its deprecated numeric id), if the "
        "viewer may see it.",
        deprecation_reason="Use `node(id:)`: null where this answers NOT_FOUND.",
    )
    async def activity_event(self, info: Info, id: strawberry.ID) -> ActivityEvent:
        type_name, event_id = parse_typed_id(id, accept=EVENT_NODE_TYPES, what="id")
        row = await EventRowsById.of(info).load(event_id)
        if row is not None and type_name is not None:
            row = row if EVENT_TYPE_OF_NODE[type_name] == row["event_type"] else None
        [visible] = await visible_rows(info, [row])
        if visible is None:
            raise NotFound(f"No activity event {id} visible to you.", field="id")
        return event_node(visible)
