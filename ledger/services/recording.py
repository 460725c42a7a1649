"""The one write path: append events and fold exactly those into every projection, in one
transaction; announce them after the commit.

Duplicates are skipped by the ``ledger_activity_once`` unique constraint (I2) and only the rows
that were actually inserted reach the fold (I1). The recorder locks projection rows in key order
so concurrent batches cannot deadlock on them; subscribers hear of events only after commit (I5).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from ledger.drafts import NewEvent, RecordedEvent
from ledger.metrics import timed_recording
from ledger.models import UserActivity
from ledger.projections import PROJECTIONS
from ledger.recorders import recorder
from ledger.signals import activity_recorded


@timed_recording  # metrics: batch latency, duplicates skipped
def record_activity(*, events: Sequence[NewEvent]) -> list[RecordedEvent]:
    """Append ``events`` that are not yet recorded and apply their deltas; return those inserted."""
    if not events:
        return []
    writer = recorder()
    with transaction.atomic(savepoint=False):
        inserted = writer.insert_new(events)
        if not inserted:
            return []
        new_events = [row.event for row in inserted]
        for projection in PROJECTIONS:
            writer.apply(projection, projection.fold(new_events))
        batch = tuple(row.recorded() for row in inserted)
        transaction.on_commit(
            lambda: activity_recorded.send(sender=UserActivity, events=batch), robust=True
        )
    return list(batch)
