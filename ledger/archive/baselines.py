"""Baselines: the fold of archived events, one row per projection row (docs/decisions/0017).

Generic over ``PROJECTIONS``: a baseline row is the projection's own ``Delta`` for one key,
summed over every archived event, whatever the projection counts. Every projection then equals
its baseline plus the fold of the hot events (I1, I9); recompute and reconcile add the two.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ledger.drafts import NewEvent
from ledger.fold import Delta, Key
from ledger.models import ProjectionBaseline, RecentResultsBaseline, StreakBaseline
from ledger.projections import PROJECTIONS, CounterProjection


def label(projection: CounterProjection) -> str:
    return projection.model._meta.label_lower


def key_text(key: Key) -> str:
    return json.dumps(list(key), separators=(",", ":"))


def archived_event(row: Mapping[str, Any], reversed_type: str | None) -> NewEvent:
    """An archived row as the write path's event, for the projections' folds."""
    return NewEvent(
        user_id=row["user_id"],
        event_type=row["event_type"],
        timestamp=row["timestamp"],
        metadata=row["metadata"],
        source_model=row["source_model"],
        source_id=row["source_id"],
        occurrence=row["occurrence"],
        amount=row["amount"],
        reverses_id=row["reverses_id"],
        reversed_type=reversed_type,
    )


class BaselineFold:
    """Sums the folds of a month's events, chunk by chunk, per projection and key."""

    def __init__(self) -> None:
        self.deltas: dict[CounterProjection, dict[Key, Delta]] = {p: {} for p in PROJECTIONS}

    def add(self, events: Sequence[NewEvent]) -> None:
        """Fold ``events``: only those of users not erased (an erased user keeps no projection)."""
        counted = [event for event in events if event.user_id is not None]
        for projection, totals in self.deltas.items():
            if projection.owner is not None:
                for key, delta in projection.fold(counted).items():
                    merge(totals, key, delta)
                continue
            # A row of no one user (rarity) keeps a baseline per user, keyed (user, *key): an
            # erasure then takes that user's archived share away with their baselines.
            by_user: dict[int, list[NewEvent]] = {}
            for event in counted:
                by_user.setdefault(event.user_id, []).append(event)
            for user_id, theirs in by_user.items():
                for key, delta in projection.fold(theirs).items():
                    merge(totals, (user_id, *key), delta)

    def save(self) -> None:
        """Add the sums to the stored baselines (in the archiving transaction), in key order."""
        for projection, totals in self.deltas.items():
            add_to_baselines(projection, totals)


def merge(totals: dict[Key, Delta], key: Key, delta: Delta) -> None:
    if key not in totals:
        totals[key] = Delta(counters=dict(delta.counters), latest=delta.latest)
        return
    total = totals[key]
    for name, value in delta.counters.items():
        total.counters[name] = total.counters.get(name, 0) + value
    total.latest = _later(total.latest, delta.latest)


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or (b is not None and b > a):
        return b
    return a


def add_to_baselines(projection: CounterProjection, totals: Mapping[Key, Delta]) -> None:
    if not totals:
        return
    name = label(projection)
    keys = sorted(totals)
    texts = {key_text(key): key for key in keys}
    stored = {
        row.key: row
        for row in ProjectionBaseline.objects.select_for_update()
        .filter(projection=name, key__in=list(texts))
        .order_by("key")
    }
    created, changed = [], []
    for text, key in texts.items():
        delta = totals[key]
        row = stored.get(text)
        if row is None:
            created.append(
                ProjectionBaseline(
                    projection=name,
                    key=text,
                    user_id=int(key[0]),
                    counters=dict(delta.counters),
                    latest=delta.latest,
                )
            )
            continue
        for counter, value in delta.counters.items():
            row.counters[counter] = int(row.counters.get(counter, 0)) + value
        row.latest = _later(row.latest, delta.latest)
        changed.append(row)
    ProjectionBaseline.objects.bulk_create(created, batch_size=1000)
    ProjectionBaseline.objects.bulk_update(changed, ["counters", "latest"], batch_size=1000)


def baselines(projection: CounterProjection, keys: Iterable[Key]) -> dict[Key, Delta]:
    """The stored baselines of these keys of ``projection`` (keys without one are left out)."""
    texts = {key_text(key): key for key in keys}
    if not texts:
        return {}
    rows = ProjectionBaseline.objects.filter(
        projection=label(projection), key__in=list(texts)
    ).values_list("key", "counters", "latest")
    return {
        texts[text]: Delta(counters={k: int(v) for k, v in counters.items()}, latest=latest)
        for text, counters, latest in rows
    }


def forget_user(user_id: int) -> None:
    """An erased user keeps no projection row, nor any baseline row: theirs (their streaks' and
    recent results' too), and every other row a projection's ``mentions`` column names them in
    (a head-to-head row against them), as the erasure deletes those projection rows."""
    ProjectionBaseline.objects.filter(user_id=user_id).delete()
    StreakBaseline.objects.filter(user_id=user_id).delete()
    RecentResultsBaseline.objects.filter(user_id=user_id).delete()
    for projection in PROJECTIONS:
        for column in projection.mentions:
            position = projection.key.index(column) if column in projection.key else None
            if position is None or column == projection.owner:
                continue
            # The key is a JSON list; the user's id at ``position`` (ids hold no commas).
            pattern = rf"^\[([^,]*,){{{position}}}{int(user_id)}[,\]]"
            ProjectionBaseline.objects.filter(
                projection=label(projection), key__regex=pattern
            ).delete()
