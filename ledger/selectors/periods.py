"""Stats by year, month or week: the fold of each period's standing events (of one game, or all)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth, TruncWeek, TruncYear

from ledger.fold import KindTotal, fold_totals
from ledger.routing import replica_read
from ledger.selectors.events import standing_events

Period = Literal["year", "month", "week"]

_TRUNCATE = {"year": TruncYear, "month": TruncMonth, "week": TruncWeek}


@dataclass(frozen=True, slots=True)
class PeriodStats:
    period_start: datetime
    counters: dict[str, int]


@replica_read
def stats_by_period(
    *,
    user_id: int,
    period: Period,
    start: datetime | None = None,
    end: datetime | None = None,
    game: str | None = None,
) -> list[PeriodStats]:
    """The fold of each year's, month's or week's standing events, oldest period first; with
    ``game``, of the events that name it (its tournaments and matches) alone.

    A cancelled event counts in no period (the feed shows its correction): periods read what
    stands now, so a period's counters are never negative.
    """
    trunc = _TRUNCATE[period]("timestamp")
    events = standing_events(user_id)
    if game is not None:
        events = events.filter(metadata__game=game)
    if start is not None:
        events = events.filter(timestamp__gte=start)
    if end is not None:
        events = events.filter(timestamp__lt=end)
    grouped = (
        events.annotate(period_start=trunc)
        .values("period_start", "event_type")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by("period_start")
    )
    totals: dict[datetime, list[KindTotal]] = defaultdict(list)
    for row in grouped:
        totals[row["period_start"]].append(
            KindTotal(row["event_type"], row["n"], int(row["total"] or 0))
        )
    return [PeriodStats(start_at, fold_totals(kinds)) for start_at, kinds in sorted(totals.items())]
