"""Activity feed types: events as the ledger recorded them, corrections included."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.relay import PageInfo
from strawberry.scalars import JSON

from ledger.models import EventType
from ledger.selectors import reversed_type

strawberry.enum(EventType, name="ActivityEventType")  # registers the enum on the class


@strawberry.type(description="One thing a player did (or a correction of it), never edited.")
class ActivityEvent:
    id: strawberry.ID
    event_type: EventType
    timestamp: datetime = strawberry.field(description="When it happened.")
    metadata: JSON
    source_model: str
    source_id: int
    amount: int = strawberry.field(description="Coins, for economy events; 0 otherwise.")
    corrects_id: strawberry.ID | None = strawberry.field(
        description="For a correction (REVERSAL): the id of the event it cancels."
    )
    corrects_event_type: EventType | None = strawberry.field(
        description="For a correction: the type of the event it cancels."
    )

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ActivityEvent:
        corrected = reversed_type(row)
        return cls(
            id=strawberry.ID(str(row["id"])),
            event_type=EventType(row["event_type"]),
            timestamp=row["timestamp"],
            metadata=row["metadata"],
            source_model=row["source_model"],
            source_id=row["source_id"],
            amount=row["amount"],
            corrects_id=strawberry.ID(str(row["reverses_id"])) if row["reverses_id"] else None,
            corrects_event_type=EventType(corrected) if corrected else None,
        )


@strawberry.type
class ActivityEdge:
    cursor: str
    node: ActivityEvent


@strawberry.type(description="A page of a feed, newest first by (timestamp, id).")
class ActivityConnection:
    edges: list[ActivityEdge]
    page_info: PageInfo


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
