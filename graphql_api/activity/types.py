"""The ActivityEvent interface (a Relay node), the feed's connection and its filter.

Each event is an instance of its concrete type (``graphql_api.activity.events``): its columns and
what it recorded are plain attributes, set once from the row, so graphql-core reads them without
a resolver call each; its links are filled for the fields a query selects (``links.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import strawberry
from graphql import GraphQLResolveInfo
from strawberry import relay
from strawberry.relay import PageInfo
from strawberry.scalars import JSON

from graphql_api.activity.links import Link
from graphql_api.activity.loaders import RecordedAtByEventId
from graphql_api.context import db
from graphql_api.users.loaders import UsersById
from graphql_api.users.types import DATABASE_ID_DEPRECATION, UserNode
from ledger.models import EventType
from ledger.selectors import archive_horizon

strawberry.enum(EventType, name="ActivityEventType")  # registers the enum on the class

METADATA_DEPRECATION = (
    "Read the typed fields of the concrete event types (fragments on them); metadata is the "
    "raw JSON the ledger recorded, kept for clients that parse it (decision 0009)."
)


@strawberry.interface(
    name="ActivityEvent",
    description="One thing a player did (or a correction of it), never edited. Each event "
    "type has its own concrete type with typed fields.",
)
class ActivityEvent(relay.Node):
    _id: strawberry.ID = strawberry.field(
        name="id", description="A global ID (opaque): node(id:) refetches the event."
    )
    db_id: relay.NodeID[int]
    owner_id: strawberry.Private[int | None]
    loaded_recorded_at: strawberry.Private[datetime | None]
    event_type: EventType
    timestamp: datetime = strawberry.field(description="When it happened.")
    metadata: JSON = strawberry.field(deprecation_reason=METADATA_DEPRECATION)
    source_model: str
    source_id: int
    amount: int = strawberry.field(
        description="Coins, for economy events; 0 otherwise.",
        deprecation_reason="Use `amount` on CoinsEarnedEvent and CoinsSpentEvent.",
    )
    corrects_id: strawberry.ID | None = strawberry.field(
        description="For a correction (REVERSAL): the database id of the event it cancels.",
        deprecation_reason="Use `corrects` on CorrectionEvent.",
    )
    corrects_event_type: EventType | None = strawberry.field(
        description="For a correction: the type of the event it cancels.",
        deprecation_reason="Use `correctedEventType` on CorrectionEvent.",
    )
    player: UserNode | None = strawberry.field(
        default=None,
        description="Whose event it is; null once that player was erased (GDPR), which only "
        "staff can see.",
    )

    LINKS: ClassVar[dict[str, Link]] = {
        "player": Link("player", lambda event: (UsersById, event.owner_id)),
        "recordedAt": Link(
            "loaded_recorded_at",
            lambda event: (
                RecordedAtByEventId,
                None if event.loaded_recorded_at is not None else event.db_id,
            ),
        ),
    }
    """Each link by field name: the attribute it fills, and the loader and id it reads."""

    @classmethod
    def resolve_type(cls, obj: Any, info: GraphQLResolveInfo, abstract_type: Any) -> str:
        """Each event is an instance of its concrete type: its name, without strawberry's
        generic search (casts, isinstance, definitions) for every event of a page."""
        return str(obj.__strawberry_definition__.name)

    @classmethod
    def recorded_fields(cls, metadata: Mapping[str, Any]) -> dict[str, Any]:
        """The concrete type's typed fields, from what the event recorded."""
        return {}

    @property
    def recorded(self) -> dict[str, Any]:
        """What the event recorded (its metadata), for the typed fields to read."""
        metadata = self.metadata
        return metadata if isinstance(metadata, dict) else {}

    @strawberry.field(deprecation_reason=DATABASE_ID_DEPRECATION)
    def database_id(self) -> int:
        return self.db_id

    @strawberry.field(description="When the ledger learned of it (backfilled events: later).")
    def recorded_at(self) -> datetime:
        assert self.loaded_recorded_at is not None, "read with the event, or as a link"
        return self.loaded_recorded_at


@strawberry.type
class ActivityEdge:
    cursor: str
    node: ActivityEvent


@strawberry.type(
    description="A feed page's position, and where the feed ends: at the archive horizon."
)
class FeedPageInfo(PageInfo):
    @strawberry.field(
        description="Events that happened before this time were moved to the archive: the feed "
        "ends there (hasNextPage false at the end of what is left), and the account's export "
        "(exportMyData) includes them. Null when nothing was archived."
    )
    async def archived_before(self) -> datetime | None:
        return await db(archive_horizon)()


@strawberry.type(description="A page of a feed, newest first by (timestamp, id).")
class ActivityConnection:
    edges: list[ActivityEdge]
    page_info: FeedPageInfo


@strawberry.input(description="Narrow a feed: some event types, and/or a [since, until) range.")
class ActivityFilter:
    event_types: list[EventType] | None = None
    since: datetime | None = None
    until: datetime | None = None

    def as_data(self) -> dict[str, Any]:
        """The input as django-filter data for ledger.filters.ActivityFilter."""
        data: dict[str, Any] = {}
        if self.event_types:
            data["event_types"] = [t.value for t in self.event_types]
        if self.since is not None:
            data["since"] = self.since.isoformat()
        if self.until is not None:
            data["until"] = self.until.isoformat()
        return data
