"""A user's history recorded through the write path from (time, type) pairs, for tests that need
events at chosen moments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ledger.drafts import NewEvent
from ledger.models import EventType
from ledger.services.recording import record_activity


def record_history(user_id: int, events: Sequence[tuple[datetime, str]]) -> list[int]:
    """Record ``events`` for ``user_id`` (each its own source row; a coin event earns 5) and
    return their ids in the same order."""
    recorded = record_activity(
        events=[
            NewEvent(
                user_id=user_id,
                event_type=kind,
                timestamp=at,
                metadata={},
                source_model="tests.history",
                source_id=n + 1,
                amount=5 if kind == EventType.COINS_EARNED else 0,
            )
            for n, (at, kind) in enumerate(events)
        ]
    )
    return [event.id for event in sorted(recorded, key=lambda event: event.source_id)]
