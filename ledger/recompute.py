"""Recompute projections from events: the other half of invariant I1 (outside ``services``, so
that ``ledger.projections`` can name each projection's recompute)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import Case, F, IntegerField, Max, Sum, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce

from ledger.counters import COUNTER_FIELDS, GAME_COUNTER_FIELDS
from ledger.fold import (
    EVENT_DELTAS,
    Key,
    KindTotal,
    achievement_of,
    event_deltas,
    fold_totals,
    opponents_of,
)
from ledger.models import EventType, ProjectionBaseline, UserActivity
from ledger.models.insights import (
    HEAD_TO_HEAD_COUNTER_FIELDS,
    AchievementHolders,
    HeadToHead,
    UserGameStats,
)
from ledger.models.stats import UserProfileStats

StatsValues = dict[str, Any]
"""A value for each of ``LIFETIME_STATS.fields``: every counter and ``last_activity_at``."""

ProjectionRows = dict[Key, dict[str, Any]]
"""A projection's rows as a recompute finds them: each key's counters and latest timestamp."""


def kinds_touching(counters: Collection[str]) -> tuple[str, ...]:
    """The event types with a delta on any of ``counters``."""
    return tuple(kind for kind, deltas in EVENT_DELTAS.items() if set(deltas) & set(counters))


GAME_KINDS = kinds_touching(GAME_COUNTER_FIELDS)
HEAD_TO_HEAD_KINDS = kinds_touching(HEAD_TO_HEAD_COUNTER_FIELDS)


def _kind() -> Coalesce:
    """An event's kind: a reversal counts as its target's type."""
    return Coalesce(F("reverses__event_type"), F("event_type"))


def _sign() -> Case:
    """+1 for an event, -1 for a reversal."""
    return Case(
        When(reverses__isnull=True, then=Value(1)), default=Value(-1), output_field=IntegerField()
    )


def add_baselines(
    rows: ProjectionRows,
    *,
    model: type[models.Model],
    counters: Collection[str],
    latest: str,
    user_ids: Collection[int] | None,
    per_user: bool = False,
) -> ProjectionRows:
    """Add the fold of the archived events (``ProjectionBaseline``, I9) to rows recomputed from
    the hot events; a row whose events were all archived comes from its baseline alone.

    ``per_user``: a projection of no one user (rarity) keeps its baselines keyed (user, *key),
    so that a user's share is known; they are summed here into the projection's own keys."""
    stored = ProjectionBaseline.objects.filter(projection=model._meta.label_lower)
    if user_ids is not None:
        stored = stored.filter(user_id__in=list(user_ids))
    for text, archived, archived_latest in stored.values_list("key", "counters", "latest"):
        key = tuple(json.loads(text))[1:] if per_user else tuple(json.loads(text))
        row = rows.setdefault(key, {**dict.fromkeys(counters, 0), latest: None})
        for name, value in archived.items():
            row[name] += int(value)
        if archived_latest is not None and (row[latest] is None or archived_latest > row[latest]):
            row[latest] = archived_latest
    return rows


def recompute_stats(user: Any) -> StatsValues:
    """What ``user``'s stats must be, from their events alone, in one grouped query.

    ``recompute_stats(user)`` and ``recompute_stats(user=user)`` both work: the seed and the
    issues write it positionally.
    """
    return recompute_stats_for(user_ids=[user.pk])[user.pk]


def recompute_stats_for(*, user_ids: Iterable[int]) -> dict[int, StatsValues]:
    """The recomputed stats of many users at once (a reversal counts against its target's type),
    archived events by their baselines."""
    ids = list(user_ids)
    grouped = (
        UserActivity.objects.filter(user_id__in=ids)
        .annotate(kind=_kind(), sign=_sign())
        .order_by()
        .values("user_id", "kind")
        .annotate(
            net_count=Sum("sign"), net_amount=Sum(F("sign") * F("amount")), last=Max("timestamp")
        )
    )
    totals: dict[int, list[KindTotal]] = defaultdict(list)
    last_seen: dict[int, datetime] = {}
    for row in grouped:
        user_id = row["user_id"]
        totals[user_id].append(KindTotal(row["kind"], row["net_count"], row["net_amount"]))
        if user_id not in last_seen or row["last"] > last_seen[user_id]:
            last_seen[user_id] = row["last"]
    rows: ProjectionRows = {}
    for user_id in ids:
        values: StatsValues = fold_totals(totals.get(user_id, []))
        values["last_activity_at"] = last_seen.get(user_id)
        rows[(user_id,)] = values
    add_baselines(
        rows,
        model=UserProfileStats,
        counters=COUNTER_FIELDS,
        latest="last_activity_at",
        user_ids=ids,
    )
    return {user_id: rows[(user_id,)] for user_id in ids}


def recompute_game_stats(user_ids: Collection[int] | None) -> ProjectionRows:
    """Per-game stats from the users' events (all users': None), keyed (user_id, game), in one
    grouped query: a row for every game a user has an event of, as the write path makes them."""
    events = UserActivity.objects.filter(user_id__isnull=False)
    if user_ids is not None:
        events = events.filter(user_id__in=list(user_ids))
    grouped = (
        events.annotate(kind=_kind(), sign=_sign(), game=KeyTextTransform("game", "metadata"))
        .filter(kind__in=GAME_KINDS, game__isnull=False)
        .order_by()
        .values("user_id", "game", "kind")
        .annotate(
            net_count=Sum("sign"), net_amount=Sum(F("sign") * F("amount")), last=Max("timestamp")
        )
    )
    totals: dict[Key, list[KindTotal]] = defaultdict(list)
    latest: dict[Key, datetime] = {}
    for row in grouped:
        key: Key
        if not row["game"]:  # as ``fold.game_of``: an empty name files nothing
            continue
        key = (row["user_id"], row["game"])
        totals[key].append(KindTotal(row["kind"], row["net_count"], row["net_amount"]))
        if key not in latest or row["last"] > latest[key]:
            latest[key] = row["last"]
    rows: ProjectionRows = {}
    for key, kinds in totals.items():
        counters = fold_totals(kinds)
        rows[key] = {name: counters[name] for name in GAME_COUNTER_FIELDS}
        rows[key]["last_activity_at"] = latest[key]
    return add_baselines(
        rows,
        model=UserGameStats,
        counters=GAME_COUNTER_FIELDS,
        latest="last_activity_at",
        user_ids=user_ids,
    )


def recompute_head_to_head(user_ids: Collection[int] | None) -> ProjectionRows:
    """Head-to-head records from the users' match events (all users': None), keyed (user_id,
    opponent_id). The opponents are a JSON list in each event, expanded here in Python (the
    same for every backend): one read of the users' match events, from the (user, type) index."""
    events = UserActivity.objects.filter(user_id__isnull=False)
    if user_ids is not None:
        events = events.filter(user_id__in=list(user_ids))
    rows = (
        events.annotate(kind=_kind(), sign=_sign())
        .filter(kind__in=HEAD_TO_HEAD_KINDS)
        .order_by()
        .values_list("user_id", "kind", "sign", "timestamp", "metadata")
    )
    found: ProjectionRows = {}
    for user_id, kind, sign, timestamp, metadata in rows.iterator(chunk_size=2000):
        assert user_id is not None
        deltas = event_deltas(kind, sign=sign)
        for opponent_id in opponents_of(metadata):
            if opponent_id == user_id:
                continue
            key: Key = (user_id, opponent_id)
            row = found.setdefault(
                key, {**dict.fromkeys(HEAD_TO_HEAD_COUNTER_FIELDS, 0), "last_match_at": None}
            )
            for name in HEAD_TO_HEAD_COUNTER_FIELDS:
                row[name] += deltas.get(name, 0)
            if sign < 0:  # a reversal's time is when it was recorded, not a match's
                continue
            if row["last_match_at"] is None or timestamp > row["last_match_at"]:
                row["last_match_at"] = timestamp
    return add_baselines(
        found,
        model=HeadToHead,
        counters=HEAD_TO_HEAD_COUNTER_FIELDS,
        latest="last_match_at",
        user_ids=user_ids,
    )


def recompute_achievement_holders(user_ids: Collection[int] | None) -> ProjectionRows:
    """Holders per achievement code from unlock events (of these users: their share; None: of
    everyone not erased), in one grouped query."""
    events = UserActivity.objects.filter(
        user_id__isnull=False,
        event_type__in=(EventType.ACHIEVEMENT_UNLOCKED, EventType.REVERSAL),  # the type index
    )
    if user_ids is not None:
        events = events.filter(user_id__in=list(user_ids))
    grouped = (
        events.annotate(
            kind=_kind(), sign=_sign(), code=KeyTextTransform("achievement_code", "metadata")
        )
        .filter(kind=EventType.ACHIEVEMENT_UNLOCKED, code__isnull=False)
        .order_by()
        .values("code")
        .annotate(holders=Sum("sign"), last=Max("timestamp"))
    )
    rows: ProjectionRows = {
        (row["code"],): {"holders": row["holders"], "last_unlocked_at": row["last"]}
        for row in grouped
        if achievement_of({"achievement_code": row["code"]}) is not None
    }
    return add_baselines(
        rows,
        model=AchievementHolders,
        counters=("holders",),
        latest="last_unlocked_at",
        user_ids=user_ids,
        per_user=True,
    )
