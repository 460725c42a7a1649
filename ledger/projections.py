"""The projections kept in the events' own transaction (DESIGN.md, "Every projection is a fold").

Each is a table of counter rows found by a key. The write path folds exactly the rows it inserted
into one ``Delta`` per key, and the recorder adds those to the table: rows are created on first
need and locked in key order, projection after projection in the order of ``PROJECTIONS``, so
every writer takes them in the same order. Lifetime stats are the one projection today.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from django.db import models

from ledger.drafts import NewEvent
from ledger.fold import Delta, Key, fold_lifetime_stats
from ledger.models.stats import COUNTER_FIELDS, UserProfileStats


@dataclass(frozen=True)
class CounterProjection:
    """A table whose rows sum the deltas of the events folded into them."""

    model: type[models.Model]
    key: tuple[str, ...]
    """The columns a row is found by: its primary key or a unique constraint (the upsert's
    conflict target)."""
    counters: tuple[str, ...]
    """Columns that add up; each has a ``>= 0`` check constraint (I6)."""
    latest: str
    """The column that keeps the latest timestamp of the events folded in (I7)."""
    touched: str
    """The column set to the time of each change."""
    fold: Callable[[Sequence[NewEvent]], Mapping[Key, Delta]]
    """The deltas of newly inserted events, by key."""

    @property
    def fields(self) -> tuple[str, ...]:
        """What the fold determines: the counters and the latest timestamp (what recompute and
        reconcile compare)."""
        return (*self.counters, self.latest)


LIFETIME_STATS = CounterProjection(
    model=UserProfileStats,
    key=("user_id",),
    counters=COUNTER_FIELDS,
    latest="last_activity_at",
    touched="stats_updated_at",
    fold=fold_lifetime_stats,
)

PROJECTIONS: tuple[CounterProjection, ...] = (LIFETIME_STATS,)
"""Every projection the write path keeps, in the order a batch locks their rows."""
