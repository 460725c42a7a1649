"""Feed pages read in windows of months (decision 0026): the same rows, in the same order, as the
one query, whatever the months known, the window's size, the cursor, the filters and the events'
times; on PostgreSQL a first page plans only its window's partitions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

import pytest
from django.db import connection, transaction
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.drafts import NewEvent
from ledger.models import EventType, UserActivity
from ledger.recorders import recorder
from ledger.recorders.base import month_of
from ledger.selectors import (
    Position,
    activity_feed_page,
    activity_feed_query,
    page_request,
    windows,
)
from ledger.selectors.feed import FEED_FIELDS, FEED_ORDER, without_economy
from ledger.selectors.paging import Page, PageRequest, keyset_page
from ledger.selectors.windows import Span, windowed_page
from ledger.services.recording import record_activity
from tests.factories import UserFactory
from tests.support.history import record_history
from tests.support.plans import and_its_partitions, plan_nodes

pytestmark = pytest.mark.django_db

NOW = datetime(2031, 6, 14, 9, 30, tzinfo=UTC)
"""The property's "now": months around it are made (and rolled back) by each example."""


def _month(offset: int, *, around: datetime = NOW) -> datetime:
    """The first moment of the month ``offset`` months from ``around``'s, in UTC."""
    index = around.year * 12 + around.month - 1 + offset
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


MOMENTS = st.builds(
    lambda offset, at: _month(offset) + at(_month(offset + 1) - _month(offset)),
    st.integers(min_value=-10, max_value=3),
    st.sampled_from(
        [
            lambda span: timedelta(0),  # a month's first moment: the window's bound
            lambda span: timedelta(microseconds=1),
            lambda span: span / 2,
            lambda span: span - timedelta(microseconds=1),  # its last moment
        ]
    ),
)
"""When events happen: at and beside month boundaries, ties, months ahead of "now"."""


def _walk(read: Any, size: int) -> list[Page[Any]]:
    """Every page of a forward walk, each read by ``read(request)``."""
    pages: list[Page[Any]] = []
    after = None
    while True:
        page = read(page_request(first=size, after=after))
        pages.append(page)
        if not page.has_next or not page.rows:
            return pages
        last = page.rows[-1]
        after = Position(key=last["timestamp"], id=last["id"])


def _reverse(user_id: int, targets: list[int], moments: list[datetime]) -> None:
    """Corrections of ``targets``, dated ``moments`` (when the ledger learned of them)."""
    events = UserActivity.objects.in_bulk(targets)
    record_activity(
        events=[
            NewEvent(
                user_id=user_id,
                event_type=EventType.REVERSAL,
                timestamp=at,
                metadata={"reverses": {"event_type": events[pk].event_type}},
                source_model="tests.windows.fix",
                source_id=pk,
                reverses_id=pk,
                reversed_type=events[pk].event_type,
                amount=events[pk].amount,
            )
            for pk, at in zip(targets, moments, strict=True)
        ]
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=st.lists(
        st.tuples(
            MOMENTS,
            st.sampled_from(
                [EventType.MATCH_PLAYED, EventType.COINS_EARNED, EventType.ACHIEVEMENT_UNLOCKED]
            ),
            st.one_of(st.none(), MOMENTS),  # corrected later, at that moment
        ),
        max_size=40,
    ),
    known=st.sets(st.integers(min_value=-12, max_value=3)),
    rate=st.integers(min_value=1, max_value=8),
    size=st.integers(min_value=1, max_value=7),
    include_economy=st.booleans(),
)
def test_windowed_pages_are_the_one_querys_pages(events, known, rate, size, include_economy):
    """Property: for any events (at month boundaries, tied, ahead of now, corrected), any view
    of the months (missing ones, months without rows: a stale list), any window (sized by the
    rate it assumes and the page size) and either audience, every page of a walk equals the
    unwindowed page."""
    with transaction.atomic(), patch.object(windows, "EVENTS_A_MONTH", rate):
        user, other = UserFactory.create(), UserFactory.create()
        ids = record_history(user.pk, [(at, kind) for at, kind, _ in events])
        record_history(other.pk, [(at, EventType.MATCH_PLAYED) for at, _, _ in events])
        fixes = [(pk, fix) for pk, (_, _, fix) in zip(ids, events, strict=True) if fix]
        if fixes:
            _reverse(user.pk, [pk for pk, _ in fixes], [fix for _, fix in fixes])
        rows: QuerySet[UserActivity] = UserActivity.objects.filter(user=user)
        if not include_economy:
            rows = without_economy(rows)
        feed = rows.values(*FEED_FIELDS)
        span = Span(months=sorted(_month(offset).date() for offset in known), start=NOW)

        def windowed(request: PageRequest) -> Page[Any]:
            return windowed_page(feed, order=FEED_ORDER, request=request, span=span)

        def one_query(request: PageRequest) -> Page[Any]:
            return keyset_page(feed, order=FEED_ORDER, request=request)

        pages = _walk(windowed, size)
        assert pages == _walk(one_query, size)
        assert sum(len(page.rows) for page in pages) == feed.count()
        transaction.set_rollback(True)


@pytest.fixture
def a_year_of_events(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Three events a month for twelve months up to this one, coin events and a correction
    among them, one event dated next month; another user's events in the same months. The
    feed's windows are over every month the events table then holds, as the test's transaction
    sees them (a process reads its list once, outside any transaction), and a window is two
    months wide for a page of 5."""
    user, other = UserFactory.create(), UserFactory.create()
    this_month = month_of(timezone.now())
    start = datetime(this_month.year, this_month.month, 1, tzinfo=UTC)
    moments = [
        _month(-months, around=start) + timedelta(days=day, hours=months)
        for months in range(12)
        for day in (0, 9, 20)
    ] + [_month(1, around=start) + timedelta(days=2)]
    kinds = [
        EventType.COINS_EARNED if n % 4 == 0 else EventType.MATCH_PLAYED
        for n in range(len(moments))
    ]
    ids = record_history(user.pk, list(zip(moments, kinds, strict=True)))
    record_history(other.pk, [(at, EventType.MATCH_PLAYED) for at in moments])
    _reverse(user.pk, [ids[0], ids[5]], [start + timedelta(hours=1), _month(-7, around=start)])
    months = sorted(recorder().event_months())
    monkeypatch.setattr(type(recorder()), "partition_months", lambda self: months)
    monkeypatch.setattr(windows, "EVENTS_A_MONTH", 3)
    return user


@pytest.mark.parametrize(
    ("since", "until", "types"),
    [
        (None, None, None),
        (None, None, [EventType.MATCH_PLAYED, EventType.REVERSAL]),
        (-8, None, None),
        (None, -2, None),
        (-8, -2, None),
    ],
)
@pytest.mark.parametrize("include_economy", [True, False])
def test_feed_pages_walk_as_one_query_with_filters(
    a_year_of_events, since, until, types, include_economy
):
    """``since`` and ``until`` in months from this one: where windows begin and end."""
    user = a_year_of_events
    this_month = month_of(timezone.now())
    start = datetime(this_month.year, this_month.month, 1, tzinfo=UTC)
    rows: QuerySet[UserActivity] = UserActivity.objects.filter(user=user)
    filters: dict[str, Any] = {}
    if since is not None:
        filters["since"] = _month(since, around=start).isoformat()
        rows = rows.filter(timestamp__gte=_month(since, around=start))
    if until is not None:
        filters["until"] = _month(until, around=start).isoformat()
        rows = rows.filter(timestamp__lt=_month(until, around=start))
    if types is not None:
        filters["event_types"] = types
        rows = rows.filter(event_type__in=types)
    if not include_economy:
        rows = without_economy(rows)
    expected = list(rows.order_by("-timestamp", "-id").values_list("id", flat=True))
    assert len(expected) >= 6
    for size in (1, 4, 10):
        pages = _walk(
            lambda request: activity_feed_page(
                user_id=user.pk, request=request, filters=filters, include_economy=include_economy
            ),
            size,
        )
        assert [row["id"] for page in pages for row in page.rows] == expected


def test_a_first_page_held_by_its_window_is_one_query(a_year_of_events):
    with CaptureQueriesContext(connection) as queries:
        page = activity_feed_page(
            user_id=a_year_of_events.pk, request=page_request(first=5), include_economy=True
        )
    assert len(page.rows) == 5
    assert page.has_next
    assert len(queries.captured_queries) == 1


@pytest.mark.postgres
def test_a_first_page_plans_only_its_windows_partitions(a_year_of_events):
    """This month, the one before and the months ahead; not the ten months below, which hold
    events of the user too. (Which scan reads each is the planner's choice for a few rows; the
    feed index's range scans are asserted on larger tables in test_explain and
    test_partitions.)"""
    query = activity_feed_query(
        user_id=a_year_of_events.pk, request=page_request(first=5), include_economy=True
    )
    nodes = plan_nodes(json.loads(query.explain(format="json"))[0]["Plan"])
    this_month = month_of(timezone.now())
    window = _month(-1, around=datetime(this_month.year, this_month.month, 1, tzinfo=UTC))
    scanned = {n["Relation Name"] for n in nodes if "Relation Name" in n}
    partitions = and_its_partitions("ledger_useractivity") - {"ledger_useractivity"}
    assert scanned == {name for name in partitions if name[-7:] >= f"{window:%Y_%m}"}
    assert (
        UserActivity.objects.filter(user=a_year_of_events, timestamp__lt=window).count() == 31
    )  # and a correction
