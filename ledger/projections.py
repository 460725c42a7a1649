"""The projections kept in the events' own transaction (DESIGN.md, "Every projection is a fold").

Each is a table of counter rows found by a key. The write path folds exactly the rows it inserted
into one ``Delta`` per key, and the recorder adds those to the table: rows are created on first
need and locked in key order, projection after projection in the order of ``PROJECTIONS``, so
every writer takes them in the same order. Recompute, reconcile, export and anonymize go through
the same registry: a projection says whose its rows are (``owner``), which columns name a user
(``mentions``), and how to recompute its rows from events (``recompute``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from django.db import models

from ledger.counters import COUNTER_FIELDS, GAME_COUNTER_FIELDS
from ledger.drafts import NewEvent
from ledger.fold import (
    Delta,
    Key,
    fold_by,
    fold_lifetime_stats,
    fold_per_opponent,
    fold_unlocks,
    game_of,
)
from ledger.models.insights import (
    HEAD_TO_HEAD_COUNTER_FIELDS,
    AchievementHolders,
    HeadToHead,
    UserGameStats,
)
from ledger.models.stats import UserProfileStats
from ledger.recompute import (
    ProjectionRows,
    recompute_achievement_holders,
    recompute_game_stats,
    recompute_head_to_head,
    recompute_stats_for,
)


@dataclass(frozen=True)
class CounterProjection:
    """A table whose rows sum the deltas of the events folded into them."""

    name: str
    """How export names its rows."""
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
    recompute: Callable[[Collection[int] | None], ProjectionRows]
    """The rows the events of these users (None: of everyone) fold to, by key: what reconcile
    compares the stored rows with."""
    owner: str | None = "user_id"
    """The key column naming the user a row belongs to: recompute, reconcile and export read a
    user's rows by it, anonymize deletes them. None: rows of no one user (a global count), from
    which anonymize subtracts the user's share."""
    mentions: tuple[str, ...] = ("user_id",)
    """Every column naming a user: anonymize deletes the rows that name the erased user."""

    @property
    def fields(self) -> tuple[str, ...]:
        """What the fold determines: the counters and the latest timestamp (what recompute and
        reconcile compare)."""
        return (*self.counters, self.latest)


def _lifetime_rows(user_ids: Collection[int] | None) -> ProjectionRows:
    ids = (
        user_ids
        if user_ids is not None
        else UserProfileStats.objects.values_list("user_id", flat=True)
    )
    return {(pk,): values for pk, values in recompute_stats_for(user_ids=ids).items()}


def _game_key(event: NewEvent) -> Key | None:
    game = game_of(event.metadata)
    return None if game is None else (event.user_id, game)


def fold_game_stats(events: Sequence[NewEvent]) -> dict[Key, Delta]:
    """The tournament and match deltas per (user, game the event's metadata names)."""
    return fold_by(events, key=_game_key, counters=GAME_COUNTER_FIELDS)


LIFETIME_STATS = CounterProjection(
    name="stats",
    model=UserProfileStats,
    key=("user_id",),
    counters=COUNTER_FIELDS,
    latest="last_activity_at",
    touched="stats_updated_at",
    fold=fold_lifetime_stats,
    recompute=_lifetime_rows,
)

GAME_STATS = CounterProjection(
    name="game_stats",
    model=UserGameStats,
    key=("user_id", "game"),
    counters=GAME_COUNTER_FIELDS,
    latest="last_activity_at",
    touched="stats_updated_at",
    fold=fold_game_stats,
    recompute=recompute_game_stats,
)


def fold_head_to_head(events: Sequence[NewEvent]) -> dict[Key, Delta]:
    """The match deltas per (player, opponent the event's metadata names)."""
    return fold_per_opponent(events, counters=HEAD_TO_HEAD_COUNTER_FIELDS)


HEAD_TO_HEAD = CounterProjection(
    name="head_to_head",
    model=HeadToHead,
    key=("user_id", "opponent_id"),
    counters=HEAD_TO_HEAD_COUNTER_FIELDS,
    latest="last_match_at",
    touched="updated_at",
    fold=fold_head_to_head,
    recompute=recompute_head_to_head,
    mentions=("user_id", "opponent_id"),
)

ACHIEVEMENT_HOLDERS = CounterProjection(
    name="achievement_holders",
    model=AchievementHolders,
    key=("code",),
    counters=("holders",),
    latest="last_unlocked_at",
    touched="updated_at",
    fold=fold_unlocks,
    recompute=recompute_achievement_holders,
    owner=None,
    mentions=(),
)

PROJECTIONS: tuple[CounterProjection, ...] = (
    LIFETIME_STATS,
    GAME_STATS,
    HEAD_TO_HEAD,
    ACHIEVEMENT_HOLDERS,
)
"""Every projection the write path keeps, in the order a batch locks their rows."""
