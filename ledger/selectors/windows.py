"""The first window of months a forward page of monthly-partitioned events reads (decision 0026).

PostgreSQL plans a query over every partition that its bounds on ``timestamp`` do not exclude,
at about 0.05 ms a partition, what the one table's whole query costs to plan. The following
feed reads its players' heads in a *window* first: the months nearest its start, its lower bound
on ``timestamp`` being a month's first moment, so that only those months are planned
(``merged._heads_in_window``). A player's own feed no longer reads windows: its statement is
prepared and planned once per connection (``prepared``, decision 0030)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from ledger.recorders.base import month_of
from ledger.selectors.paging import PageRequest

EVENTS_A_MONTH = 6
"""The first window holds a page for a user who records this many events a month or more: of
50 rows (and the one that says whether there are more), nine months. A second query costs more
than planning the months a window holds beyond the page's (a round trip is ~0.3 ms on an idle
machine and several under load, a month's planning 0.05-0.1 ms), so the window is wide."""


@dataclass(frozen=True, slots=True)
class Span:
    """What a forward page may read: from ``start`` (its cursor, or now) down, over ``months``
    (the partitions, oldest first; None where the table is one table)."""

    months: Sequence[date] | None
    start: datetime


def window_bound(span: Span, request: PageRequest) -> datetime | None:
    """Where a page's first window begins (its lower bound on ``timestamp``): the first moment
    of the month that many months from the start's, down, as ``EVENTS_A_MONTH`` says the page
    needs; None (one query) for a backward page, where there are no more than twice as many
    months to read, or no months (one table)."""
    if span.months is None or request.last is not None:
        return None
    left = [month for month in reversed(span.months) if month <= month_of(span.start)]
    months = math.ceil((request.size + 1) / EVENTS_A_MONTH)
    if len(left) <= 2 * months:
        return None
    month = left[months - 1]
    return datetime(month.year, month.month, 1, tzinfo=UTC)
