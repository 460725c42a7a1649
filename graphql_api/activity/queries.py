"""activityFeed and activityEvent: visibility checked here, rows from ledger.selectors."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from graphql_api.activity.events import EVENT_TYPE_OF_NODE, events_for, linked_events
from graphql_api.activity.links import Wanted, wanted_of
from graphql_api.activity.loaders import EventRowsById
from graphql_api.activity.types import (
    ActivityConnection,
    ActivityEdge,
    ActivityEvent,
    ActivityFilter,
    FeedPageInfo,
)
from graphql_api.context import db, load_subject, no_such_user, requested_user_id, viewer_of
from graphql_api.errors import BadInput, NotFound
from graphql_api.nodes.ids import parse_typed_id
from graphql_api.pagination import encode_cursor, page_info, to_page_request
from graphql_api.permissions import Viewer, can_see_economy, require_activity
from ledger.filters import InvalidFilterError
from ledger.selectors import Page, activity_feed_page

FEED_CURSOR = "feed"
EVENT_NODE_TYPES = frozenset(EVENT_TYPE_OF_NODE)


def feed_edge(row: dict[str, Any], node: ActivityEvent) -> ActivityEdge:
    """A feed row and its event as an edge: the same for a page and a subscription's events."""
    return ActivityEdge(cursor=encode_cursor(FEED_CURSOR, row["timestamp"], row["id"]), node=node)


def _feed_page(
    *, viewer: Viewer, wanted: Wanted, user_id: int, **page: Any
) -> tuple[Page[dict[str, Any]], list[ActivityEvent | None]]:
    """The subject, the viewer's right to their feed, the page and its events with what the
    query asks of them (links, corrected events), in one trip to Django's thread (a trip
    costs about as much CPU as the page's query): one query per kind of object."""
    subject = load_subject(user_id)
    if subject is None:
        raise no_such_user(user_id)
    require_activity(viewer, owner_id=subject.user_id, activity_public=subject.activity_public)
    include_economy = can_see_economy(viewer, owner_id=subject.user_id)
    rows = activity_feed_page(user_id=subject.user_id, include_economy=include_economy, **page)
    events = linked_events(rows.rows, viewer=viewer, wanted=wanted, check_visibility=False)
    return rows, events


def feed_connection(
    page: Page[dict[str, Any]], events: list[ActivityEvent | None]
) -> ActivityConnection:
    """A page of feed rows and their events as a connection: the same for a player's feed and
    the following feed, whose own queries decide what the viewer sees (every event is there)."""
    edges = [
        feed_edge(row, event)
        for row, event in zip(page.rows, events, strict=True)
        if event is not None
    ]
    position = page_info(page, [e.cursor for e in edges])
    return ActivityConnection(edges=edges, page_info=FeedPageInfo(**vars(position)))


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
        try:
            page, events = await db(_feed_page)(
                viewer=viewer_of(info),
                wanted=wanted_of(info, ("edges", "node")),
                user_id=requested_user_id(info, user_id),
                request=request,
                filters=filter.as_data() if filter else None,
            )
        except InvalidFilterError as error:
            raise BadInput(str(error), field="filter") from None
        return feed_connection(page, events)

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
        [event] = await events_for(info, [row], wanted_of(info), check_visibility=True)
        if event is None:
            raise NotFound(f"No activity event {id} visible to you.", field="id")
        return event
