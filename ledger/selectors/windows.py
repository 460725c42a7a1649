"""Keyset pages of the monthly-partitioned events read a few months at a time, newest first.

PostgreSQL plans a query over every partition that its bounds on ``timestamp`` do not exclude,
at 0.05-0.1 ms a partition, where the one table's whole query plans in 0.05 ms. A feed's first
page has no such bound: it was planned over all 29 months for the 50 rows of its newest few
(docs/benchmarks.md). So a page is read in *windows*: the months nearest its start first, the
window's lower bound on ``timestamp`` being a month's first moment, so that only those months
are planned; then, only while the rows read are fewer than the page wants, the months below,
bounded above where the window before began. The windows are disjoint and follow one another
in the page's order, so the rows are those the one query would give; the last window has no
lower bound, so a month the list of months lacks is read all the same. docs/decisions/0026.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.db.models import QuerySet

from ledger.recorders.base import month_of
from ledger.selectors.paging import Page, PageRequest, keyset_page, keyset_query, page_of

FIRST_MONTHS = 2
"""The first window: the start's month and the one before (a user of the seed's scale records
about 50 events a month, a page's worth), and every month after the start."""

FEW_MONTHS = 4
"""A window that would leave at most this many months below it takes them too: one more query
costs about what planning this many partitions does."""

MAX_QUERIES = 3
"""The third window takes all that is left, whatever the months found so far hold."""


@dataclass(frozen=True, slots=True)
class Span:
    """What a forward page may read: from ``start`` (its cursor, or now) down to ``floor`` (below
    which no row can be wanted), over ``months`` (the partitions, oldest first; None where the
    table is one table)."""

    months: Sequence[date] | None
    start: datetime
    floor: datetime | None = None

    def months_left(self) -> list[date] | None:
        """The months a walk may read, newest first (None: read in one query)."""
        if self.months is None:
            return None
        lowest = month_of(self.floor) if self.floor is not None else date.min
        return [month for month in reversed(self.months) if lowest <= month <= month_of(self.start)]


def windowed_page(
    queryset: QuerySet[Any], *, order: tuple[str, str], request: PageRequest, span: Span
) -> Page[Any]:
    """``keyset_page`` of ``queryset`` (``order`` led by a descending ``timestamp``), read in
    windows of the months of ``span``. A backward page is one query: its cursor bounds it from
    below already."""
    left = span.months_left()
    if left is None or request.last is not None:
        return keyset_page(queryset, order=order, request=request)
    column = order[0].removeprefix("-")
    wanted = request.size + 1
    rows: list[Any] = []
    read = 0  # months the windows so far covered
    size = FIRST_MONTHS
    window = queryset
    for query in range(MAX_QUERIES):
        lower = _lower_bound(left, read=read, size=size, query=query)
        bounded = window if lower is None else window.filter(**{f"{column}__gte": lower})
        limit = wanted - len(rows)
        rows += keyset_query(bounded, order=order, request=request, limit=limit)
        if lower is None or len(rows) == wanted:
            break
        window = queryset.filter(**{f"{column}__lt": lower})
        read += size
        size = _next_size(read=read, found=len(rows), wanted=wanted)
    return page_of(rows, request=request)


def first_window_query(
    queryset: QuerySet[Any], *, order: tuple[str, str], request: PageRequest, span: Span
) -> QuerySet[Any]:
    """The first SELECT ``windowed_page`` runs (all it runs when that window holds the page)."""
    left = span.months_left()
    if left is not None and request.last is None:
        lower = _lower_bound(left, read=0, size=FIRST_MONTHS, query=0)
        if lower is not None:
            queryset = queryset.filter(**{f"{order[0].removeprefix('-')}__gte": lower})
    return keyset_query(queryset, order=order, request=request)


def _lower_bound(left: Sequence[date], *, read: int, size: int, query: int) -> datetime | None:
    """Where a window of ``size`` months after the ``read`` ones begins; None when it is the
    last (it takes all the months left)."""
    if query == MAX_QUERIES - 1 or len(left) <= read + size + FEW_MONTHS:
        return None
    return _first_moment(left[read + size - 1])


def _next_size(*, read: int, found: int, wanted: int) -> int:
    """Months for the next window: as many as the months read hold rows, for the rows still
    wanted, and at least as many as were read (nothing found: twice the span so far)."""
    if not found:
        return read
    return max(read, math.ceil(read * (wanted - found) / found))


def _first_moment(month: date) -> datetime:
    """A month's first moment in UTC: where its partition begins."""
    return datetime(month.year, month.month, 1, tzinfo=UTC)
