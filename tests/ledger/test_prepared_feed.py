"""Feed pages on monthly partitions are one statement, prepared on the connection and run with a
generic plan (decision 0030): the same rows, in the same order, as the unprepared query, whatever
the events' times and the filters; planned once per connection, over every month, pruned when
it runs; an ordered scan of the feed index, never a sort of a user's history."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.drafts import NewEvent
from ledger.models import EventType, UserActivity
from ledger.recorders.base import month_of
from ledger.selectors import Position, activity_feed_page, activity_feed_query, page_request
from ledger.selectors.feed import FEED_FIELDS, FEED_ORDER, without_economy
from ledger.selectors.paging import Page, PageRequest, keyset_order, keyset_page
from ledger.selectors.prepared import prepared_values
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
            lambda span: timedelta(0),  # a month's first moment: a partition's bound
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
                source_model="tests.prepared.fix",
                source_id=pk,
                reverses_id=pk,
                reversed_type=events[pk].event_type,
                amount=events[pk].amount,
            )
            for pk, at in zip(targets, moments, strict=True)
        ]
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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
    size=st.integers(min_value=1, max_value=7),
    include_economy=st.booleans(),
)
def test_feed_pages_are_the_unprepared_querys_pages(events, size, include_economy):
    """Property: for any events (at month boundaries, tied, ahead of now, corrected) and either
    audience, every page of a walk of the feed (prepared on PostgreSQL's partitions) equals the
    page of the unprepared keyset query."""
    with transaction.atomic():
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

        def prepared(request: PageRequest) -> Page[Any]:
            return activity_feed_page(
                user_id=user.pk, request=request, include_economy=include_economy
            )

        def unprepared(request: PageRequest) -> Page[Any]:
            return keyset_page(feed, order=FEED_ORDER, request=request)

        pages = _walk(prepared, size)
        assert pages == _walk(unprepared, size)
        assert sum(len(page.rows) for page in pages) == feed.count()
        transaction.set_rollback(True)


@pytest.fixture
def a_year_of_events() -> Any:
    """Three events a month for twelve months up to this one, coin events and a correction
    among them, one event dated next month; another user's events in the same months."""
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
    """``since`` and ``until`` in months from this one."""
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


def test_an_empty_filter_is_an_empty_page_without_a_statement(a_year_of_events):
    rows = UserActivity.objects.filter(user=a_year_of_events, pk__in=[]).values(*FEED_FIELDS)
    ordered = keyset_order(rows, order=FEED_ORDER, request=page_request(first=5))
    with CaptureQueriesContext(connection) as queries:
        assert prepared_values(ordered, limit=6) == []
    assert not queries.captured_queries


def _prepared_statement(sql: str) -> dict[str, Any]:
    """The connection's prepared statement of ``sql`` (psycopg numbers its placeholders)."""
    numbers = iter(range(1, sql.count("%s") + 1))
    text = re.sub(r"%s", lambda _: f"${next(numbers)}", sql)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement = %s",
            [text],
        )
        [(name, generic, custom)] = cursor.fetchall()
    return {"name": name, "generic_plans": generic, "custom_plans": custom}


def _page_statement(
    user_id: int, request: PageRequest, *, include_economy: bool
) -> tuple[str, list[Any]]:
    """The SQL and parameters of a feed page's prepared statement."""
    rows: QuerySet[UserActivity] = UserActivity.objects.filter(user_id=user_id)
    if not include_economy:
        rows = without_economy(rows)
    ordered = keyset_order(rows.values(*FEED_FIELDS), order=FEED_ORDER, request=request)
    sql, params = ordered.query.sql_with_params()
    return f"{sql} LIMIT %s", [*params, request.size + 1]


@pytest.mark.postgres
def test_a_feed_page_is_one_statement_planned_once_per_connection(a_year_of_events):
    """Two users' first pages: one statement each, the same prepared statement, run with its
    generic plan both times (no custom plan: nothing planned per page)."""
    other = UserFactory.create()
    record_history(other.pk, [(timezone.now() - timedelta(days=40), EventType.MATCH_PLAYED)])
    for user in (a_year_of_events, other):
        with CaptureQueriesContext(connection) as queries:
            page = activity_feed_page(
                user_id=user.pk, request=page_request(first=5), include_economy=False
            )
        assert page.rows
        assert len(queries.captured_queries) == 1
    sql, _ = _page_statement(other.pk, page_request(first=5), include_economy=False)
    statement = _prepared_statement(sql)
    assert statement["generic_plans"] == 2
    assert statement["custom_plans"] == 0


@pytest.fixture
def a_long_history_among_short_ones() -> Any:
    """A user with 100 events a month for a year, among 150 users of three events each in the
    same months: the average user (what a generic plan is costed for) has a few rows a month,
    so a plan that reads every row of the user and sorts them looks cheap, and is not for this
    one (measured: without its LIMIT as a parameter, a deep page's generic plan was that)."""
    user = UserFactory.create()
    this_month = month_of(timezone.now())
    start = _month(-11, around=datetime(this_month.year, this_month.month, 1, tzinfo=UTC))
    record_history(
        user.pk,
        [(start + timedelta(minutes=432 * n), EventType.MATCH_PLAYED) for n in range(1200)],
    )
    for n, other in enumerate(UserFactory.create_batch(150)):
        record_history(
            other.pk,
            [
                (start + timedelta(days=(n + 120 * k) % 360), EventType.MATCH_PLAYED)
                for k in (0, 1, 2)
            ],
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ledger_useractivity")
    return user


@pytest.mark.postgres
@pytest.mark.parametrize("page", ["first", "deep", "backward"])
@pytest.mark.parametrize("include_economy", [True, False])
def test_a_feed_pages_generic_plan_is_an_ordered_scan_of_the_feed_index(
    a_long_history_among_short_ones, page, include_economy
):
    """The plan the prepared statement runs: the months in the page's order, each an index scan
    of its feed index (others' view: the one without coin events) bounded by the user (and the
    page's cursor), stopping after the page: no sort, no scan of the table; the months beyond
    a cursor are pruned when it runs (a backward page is a subscription's catch-up)."""
    user = a_long_history_among_short_ones
    request = page_request(first=50)
    if page != "first":
        middle = UserActivity.objects.filter(user=user).order_by("-timestamp", "-id")[700]
        at = Position(key=middle.timestamp, id=middle.pk)
        if page == "deep":
            request = page_request(first=50, after=at)
        else:
            request = page_request(last=50, before=at)
    read = activity_feed_page(user_id=user.pk, request=request, include_economy=include_economy)
    assert len(read.rows) == 50
    sql, params = _page_statement(user.pk, request, include_economy=include_economy)
    name = _prepared_statement(sql)["name"]
    with connection.cursor() as cursor:
        arguments = ", ".join(["%s"] * len(params))
        cursor.execute(f"EXPLAIN (FORMAT JSON) EXECUTE {name}({arguments})", params)
        plan = cursor.fetchone()[0]
    nodes = plan_nodes(plan[0]["Plan"])
    dump = json.dumps(plan, indent=1)
    assert not any(n["Node Type"] in {"Sort", "Seq Scan", "Bitmap Heap Scan"} for n in nodes), dump
    scans = [n for n in nodes if "Relation Name" in n]
    assert len(scans) >= 2, dump
    assert all(n["Node Type"] in {"Index Scan", "Index Scan Backward"} for n in scans), dump
    # Others' view reads the partial index without coin events (its predicate is proven from
    # the coin types written into the statement, not bound).
    index = "ledger_activity_feed" if include_economy else "ledger_activity_feed_shown"
    assert {n["Index Name"] for n in scans} <= and_its_partitions(index), dump
    assert all("user_id = $1" in n["Index Cond"] for n in scans), dump
    append = next(n for n in nodes if n["Node Type"] == "Append")
    if page != "first":
        bound = '"timestamp" <= $' if page == "deep" else '"timestamp" >= $'
        assert all(bound in n["Index Cond"] for n in scans), dump
        assert append.get("Subplans Removed", 0) >= 1, dump


def test_only_the_ledgers_names_are_written_into_sql():
    from ledger.selectors.feed import _Written

    assert _Written(EventType.COINS_SPENT).value == "coins_spent"
    with pytest.raises(ValueError, match="not a name"):
        _Written("coins' OR 'a' = 'a")


def _filters(kind: str, first: datetime) -> dict[str, Any]:
    filters: dict[str, dict[str, Any]] = {
        "types": {"event_types": [EventType.MATCH_PLAYED.value]},
        "since": {"since": (first + timedelta(days=300)).isoformat()},
        "window": {
            "since": (first + timedelta(days=100)).isoformat(),
            "until": (first + timedelta(days=160)).isoformat(),
        },
    }
    return filters[kind]


def test_a_typed_page_is_not_a_distinct_query(a_year_of_events):
    """django-filter's multiple choice filter adds DISTINCT by default: a sort of every matching
    row of the user before the LIMIT, on any backend. A column of the row duplicates nothing."""
    query = activity_feed_query(
        user_id=a_year_of_events.pk,
        request=page_request(first=5),
        filters={"event_types": [EventType.MATCH_PLAYED.value]},
        include_economy=True,
    )
    assert "DISTINCT" not in str(query.query).upper()


@pytest.mark.postgres
@pytest.mark.parametrize("kind", ["types", "since", "window"])
def test_a_filtered_pages_generic_plan_is_an_ordered_scan_too(
    a_long_history_among_short_ones, kind
):
    """Pages narrowed to event types or to a time range run generic plans as well: the months
    in order, each an index scan of the feed index stopping after the page (the types a filter
    on it), the months outside a time range pruned when it runs; no sort, no DISTINCT."""
    user = a_long_history_among_short_ones
    first = UserActivity.objects.filter(user=user).order_by("timestamp")[0].timestamp
    filters = _filters(kind, first)
    request = page_request(first=50)
    read = activity_feed_page(
        user_id=user.pk, request=request, filters=filters, include_economy=False
    )
    assert len(read.rows) == 50
    query = activity_feed_query(
        user_id=user.pk, request=request, filters=filters, include_economy=False
    )
    sql, params = query.query.sql_with_params()
    statement = re.sub(r" LIMIT \d+$", " LIMIT %s", sql)
    name = _prepared_statement(statement)["name"]
    with connection.cursor() as cursor:
        arguments = ", ".join(["%s"] * (len(params) + 1))
        cursor.execute(
            f"EXPLAIN (FORMAT JSON) EXECUTE {name}({arguments})", [*params, request.size + 1]
        )
        plan = cursor.fetchone()[0]
    nodes = plan_nodes(plan[0]["Plan"])
    dump = json.dumps(plan, indent=1)
    kinds = {n["Node Type"] for n in nodes}
    assert not kinds & {"Sort", "Unique", "Seq Scan", "Bitmap Heap Scan"}, dump
    scans = [n for n in nodes if "Relation Name" in n]
    assert all(n["Node Type"] in {"Index Scan", "Index Scan Backward"} for n in scans), dump
    assert {n["Index Name"] for n in scans} <= and_its_partitions("ledger_activity_feed_shown")
    if kind != "types":
        append = next(n for n in nodes if n["Node Type"] == "Append")
        assert append.get("Subplans Removed", 0) >= 1, dump
