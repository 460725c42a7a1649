"""What translators produce and the write path consumes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class EventDraft:
    """An event a source row stands for, before it is keyed to the row and recorded."""

    user_id: int
    event_type: str
    timestamp: datetime
    metadata: Mapping[str, Any] = field(default_factory=dict)
    amount: int = 0

    def keyed(self, *, source_model: str, source_id: int, occurrence: int) -> NewEvent:
        """This draft as the event of a source row, ready to append."""
        return NewEvent(
            self.user_id,
            self.event_type,
            self.timestamp,
            self.metadata,
            source_model,
            source_id,
            occurrence,
            self.amount,
        )


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A fully keyed event, ready to append."""

    user_id: int
    event_type: str
    timestamp: datetime
    metadata: Mapping[str, Any]
    source_model: str
    source_id: int
    occurrence: int = 0
    amount: int = 0
    reverses_id: int | None = None
    reversed_type: str | None = None
    """For a reversal, the type of the cancelled event: its deltas are subtracted."""


@dataclass(frozen=True, slots=True)
class InsertedEvent:
    """A new event the recorder inserted: its id, and the event as it was asked for (what the
    projections fold)."""

    id: int
    event: NewEvent

    def recorded(self) -> RecordedEvent:
        event = self.event
        return RecordedEvent(
            self.id, event.user_id, event.event_type, event.source_model, event.source_id
        )


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event the write path actually inserted (duplicates are not reported)."""

    id: int
    user_id: int
    event_type: str
    source_model: str
    source_id: int
