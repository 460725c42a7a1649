"""Baselines: the fold of archived events, one row per projection row (docs/decisions/0017).

Generic over ``PROJECTIONS``: a baseline row is the projection's own ``Delta`` for one key,
summed over every archived event, whatever the projection counts. Every projection then equals
its baseline plus the fold of the hot events (I1, I9); recompute and reconcile add the two.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models

from ledger.drafts import NewEvent
from ledger.fold import Delta, Key
from ledger.models import ProjectionBaseline

if TYPE_CHECKING:  # ledger.projections imports the recomputes, which import this module
    from ledger.projections import CounterProjection


def label(model: type[models.Model]) -> str:
    """How a baseline row names its projection: the projection's model label."""
    return model._meta.label_lower


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
        from ledger.projections import PROJECTIONS

        self.deltas: dict[CounterProjection, dict[Key, Delta]] = {p: {} for p in PROJECTIONS}

    def add(self, events: Sequence[NewEvent]) -> None:
        """Fold ``events``: only those of users not erased (an erased user keeps no projection)."""
        counted = [event for event in events if event.user_id is not None]
        for projection, totals in self.deltas.items():
            for key, delta in projection.fold(counted).items():
                merge(totals, key, delta)

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
    name = label(projection.model)
    owner = projection.key.index(projection.owner) if projection.owner is not None else None
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
                    user_id=None if owner is None else int(key[owner]),
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


def baselines(model: type[models.Model], user_ids: Collection[int] | None) -> dict[Key, Delta]:
    """The stored baselines of a projection (by its model): its rows of these users, or all."""
    rows = ProjectionBaseline.objects.filter(projection=label(model))
    if user_ids is not None:
        rows = rows.filter(user_id__in=list(user_ids))
    return {
        tuple(json.loads(text)): Delta(
            counters={name: int(value) for name, value in counters.items()}, latest=latest
        )
        for text, counters, latest in rows.values_list("key", "counters", "latest")
    }


def add_baselines(
    rows: dict[Key, dict[str, Any]],
    *,
    model: type[models.Model],
    user_ids: Collection[int] | None,
    counters: Sequence[str],
    latest: str,
) -> None:
    """Add to a recompute's ``rows`` (the fold of the hot events, by key) the baselines of the
    same users: a key with archived events only gets its row here (I1 over the archive, I9)."""
    for key, baseline in baselines(model, user_ids).items():
        row = rows.get(key)
        if row is None:
            row = rows[key] = {**dict.fromkeys(counters, 0), latest: None}
        for name, value in baseline.counters.items():
            row[name] += value
        row[latest] = _later(row[latest], baseline.latest)


def forget_user(user_id: int) -> None:
    """An erased user keeps no projection rows: nor any baseline row of theirs."""
    ProjectionBaseline.objects.filter(user_id=user_id).delete()
