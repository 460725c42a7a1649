"""Recompute stats from events: the other half of invariant I1."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Case, F, IntegerField, Max, Sum, Value, When
from django.db.models.functions import Coalesce

from ledger.archive.baselines import baselines
from ledger.fold import KindTotal, fold_totals
from ledger.models import UserActivity
from ledger.projections import LIFETIME_STATS

StatsValues = dict[str, Any]
"""A value for each of ``LIFETIME_STATS.fields``: every counter and ``last_activity_at``."""


def recompute_stats(user: Any) -> StatsValues:
    """What ``user``'s stats must be, from their events alone (archived ones by their baseline).

    ``recompute_stats(user)`` and ``recompute_stats(user=user)`` both work: the seed and the
    issues write it positionally.
    """
    return recompute_stats_for(user_ids=[user.pk])[user.pk]


def recompute_stats_for(*, user_ids: Iterable[int]) -> dict[int, StatsValues]:
    """The recomputed stats of many users at once (a reversal counts against its target's type):
    the archived baseline plus the fold of the hot events, in two queries."""
    ids = list(user_ids)
    sign = Case(
        When(reverses__isnull=True, then=Value(1)), default=Value(-1), output_field=IntegerField()
    )
    grouped = (
        UserActivity.objects.filter(user_id__in=ids)
        .annotate(kind=Coalesce(F("reverses__event_type"), F("event_type")), sign=sign)
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
    archived = baselines(LIFETIME_STATS, [(user_id,) for user_id in ids])
    result: dict[int, StatsValues] = {}
    for user_id in ids:
        values: StatsValues = fold_totals(totals.get(user_id, []))
        last = last_seen.get(user_id)
        baseline = archived.get((user_id,))
        if baseline is not None:  # the archived events' fold (I9)
            for name, value in baseline.counters.items():
                values[name] += value
            if baseline.latest is not None and (last is None or baseline.latest > last):
                last = baseline.latest
        values["last_activity_at"] = last
        result[user_id] = values
    return result
