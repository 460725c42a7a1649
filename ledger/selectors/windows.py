"""Keyset pages of the monthly-partitioned events read newest months first, in two statements.

PostgreSQL plans a query over every partition that its bounds on ``timestamp`` do not exclude,
at about 0.08 ms a partition, what the one table's whole query costs to plan. A feed's first
page has no such bound: it was planned over all 30 months for the 50 rows of its newest few
(docs/benchmarks.md). So a page reads a *window* first: the months nearest its start, its lower
bound on ``timestamp`` being a month's first moment, so that only those months are planned; then,
only when they hold less than the page wants, all the months below, bounded above where the
window began. The two are disjoint and follow one another in the page's order, so the rows are
those the one query would give; the second has no lower bound, so a month the list of months
lacks is read all the same. docs/decisions/0026."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.db.models import QuerySet

from ledger.recorders.base import month_of
from ledger.selectors.paging import Page, PageRequest, keyset_page, keyset_query, page_of

EVENTS_A_MONTH = 6
"""The first window holds a page for a user who records this many events a month or more: of
50 rows (and the one that says whether there are more), nine months. A second query costs more
than planning the months a window holds beyond the page's (a round trip is ~0.3 ms on an idle
machine and several under load, a month's planning 0.05-0.1 ms), so the window is wide."""


@dataclass(frozen=True, slots=True)
class Span:
    """What a forward page may read: from ``start`` (its cursor, or now) down to ``floor`` (below
    which no row can be wanted), over ``months`` (the partitions, oldest first; None where the
    table is one table)."""

    months: Sequence[date] | None
    start: datetime
    floor: datetime | None = None


def windowed_page(
    queryset: QuerySet[Any], *, order: tuple[str, str], request: PageRequest, span: Span
) -> Page[Any]:
    """``keyset_page`` of ``queryset`` (``order`` led by a descending ``timestamp``), read in
    two windows of the months of ``span``. A backward page is one query: its cursor bounds it
    from below already."""
    lower = window_bound(span, request)
    if lower is None:
        return keyset_page(queryset, order=order, request=request)
    column = order[0].removeprefix("-")
    first = queryset.filter(**{f"{column}__gte": lower})
    rows = list(keyset_query(first, order=order, request=request))
    wanted = request.size + 1
    if len(rows) < wanted:
        rest = queryset.filter(**{f"{column}__lt": lower})
        rows += keyset_query(rest, order=order, request=request, limit=wanted - len(rows))
    return page_of(rows, request=request)


def first_window_query(
    queryset: QuerySet[Any], *, order: tuple[str, str], request: PageRequest, span: Span
) -> QuerySet[Any]:
    """The first SELECT ``windowed_page`` runs (all it runs when that window holds the page)."""
    lower = window_bound(span, request)
    if lower is not None:
        queryset = queryset.filter(**{f"{order[0].removeprefix('-')}__gte": lower})
    return keyset_query(queryset, order=order, request=request)


def window_bound(span: Span, request: PageRequest) -> datetime | None:
    """Where a page's first window begins (its lower bound on ``timestamp``): the first moment
    of the month that many months from the start's, down, as ``EVENTS_A_MONTH`` says the page
    needs; None (one query) for a backward page, where there are no more than twice as many
    months to read, or no months (one table)."""
    if span.months is None or request.last is not None:
        return None
    lowest = month_of(span.floor) if span.floor is not None else date.min
    left = [month for month in reversed(span.months) if lowest <= month <= month_of(span.start)]
    months = math.ceil((request.size + 1) / EVENTS_A_MONTH)
    if len(left) <= 2 * months:
        return None
    month = left[months - 1]
    return datetime(month.year, month.month, 1, tzinfo=UTC)
