"""merged_feed_page: many users' feeds as one, keyset pages newest first, economy hidden."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.drafts import NewEvent
from ledger.models import EventType, UserActivity
from ledger.recorders import recorder
from ledger.selectors import Position, merged_feed_page, page_request, windows
from ledger.services.recording import record_activity
from tests.factories import UserFactory
from tests.graphql_api.conftest import BASE_TIME, make_events
from tests.support.history import record_history
from tests.support.plans import and_its_partitions, plan_nodes

pytestmark = pytest.mark.django_db


def visible_newest_first(users: list[Any]) -> list[int]:
    return list(
        UserActivity.objects.filter(user__in=users)
        .exclude(event_type__in=[EventType.COINS_EARNED, EventType.COINS_SPENT])
        .exclude(reverses__event_type__in=[EventType.COINS_EARNED, EventType.COINS_SPENT])
        .order_by("-timestamp", "-id")
        .values_list("id", flat=True)
    )


def walk(user_ids: Any, size: int) -> list[int]:
    seen: list[int] = []
    after = None
    while True:
        page = merged_feed_page(user_ids=user_ids, request=page_request(first=size, after=after))
        seen += [row["id"] for row in page.rows]
        assert page.has_previous is (after is not None)
        if not page.has_next:
            return seen
        last = page.rows[-1]
        after = Position(key=last["timestamp"], id=last["id"])


def players_with(histories: list[list[tuple[datetime, str]]]) -> list[Any]:
    """A player for each history of (time, type), its events recorded."""
    users = [UserFactory.create() for _ in histories]
    for user, events in zip(users, histories, strict=True):
        record_history(user.pk, events)
    return users


@pytest.fixture
def histories():
    """Three players with interleaved histories, ties across players, and coin events."""
    a, b, c, other = (UserFactory.create() for _ in range(4))
    make_events(a, 7, step=timedelta(minutes=2), source_model="tests.a")
    make_events(b, 5, start=BASE_TIME + timedelta(minutes=1), step=timedelta(minutes=3))
    # At the very instants of a's events: the id breaks ties across players.
    make_events(c, 4, step=timedelta(minutes=2), source_model="tests.c")
    make_events(
        c,
        3,
        event_type=EventType.COINS_EARNED,
        amount=5,
        start=BASE_TIME + timedelta(seconds=30),
        source_model="tests.coins",
    )
    make_events(other, 4, source_model="tests.other")
    return [a, b, c], other


@pytest.mark.parametrize("size", [1, 2, 3, 5, 100])
def test_pages_walk_every_visible_event_of_the_users_once_newest_first(histories, size):
    users, _ = histories
    expected = visible_newest_first(users)
    assert len(expected) == 16
    assert walk([u.pk for u in users], size) == expected


def test_user_ids_may_be_a_subquery(histories):
    users, _other = histories
    ids = get_user_model().objects.filter(pk__in=[u.pk for u in users]).values(user_id=F("pk"))
    assert walk(ids, 4) == visible_newest_first(users)


def test_last_before_reads_backwards_from_a_position(histories):
    users, _ = histories
    expected = visible_newest_first(users)
    ids = [u.pk for u in users]
    pivot = UserActivity.objects.get(pk=expected[9])
    page = merged_feed_page(
        user_ids=ids,
        request=page_request(last=4, before=Position(key=pivot.timestamp, id=pivot.pk)),
    )
    assert [row["id"] for row in page.rows] == expected[5:9]
    assert page.has_previous is True
    assert page.has_next is True
    newest = merged_feed_page(
        user_ids=ids,
        request=page_request(last=100, before=Position(key=pivot.timestamp, id=pivot.pk)),
    )
    assert [row["id"] for row in newest.rows] == expected[:9]
    assert newest.has_previous is False


def test_no_users_or_no_events_is_an_empty_page(histories):
    empty = merged_feed_page(user_ids=[], request=page_request(first=5))
    assert (empty.rows, empty.has_next, empty.has_previous) == ([], False, False)
    quiet = UserFactory.create()
    assert merged_feed_page(user_ids=[quiet.pk], request=page_request(first=5)).rows == []


def test_a_correction_of_a_coin_event_is_hidden_and_of_another_event_shown(histories):
    users, _ = histories
    coin = UserActivity.objects.filter(user=users[2], event_type=EventType.COINS_EARNED).first()
    shown = UserActivity.objects.filter(user=users[0]).first()
    assert coin is not None
    assert shown is not None
    record_activity(
        events=[
            NewEvent(
                user_id=users[2].pk if target == coin else users[0].pk,
                event_type=EventType.REVERSAL,
                timestamp=BASE_TIME + timedelta(hours=1),
                metadata={"reverses": {"event_type": target.event_type}},
                source_model="tests.fix",
                source_id=target.pk,
                reverses_id=target.pk,
                reversed_type=target.event_type,
                amount=target.amount,
            )
            for target in (coin, shown)
        ]
    )
    correction = UserActivity.objects.get(source_model="tests.fix", reverses=shown)
    rows = merged_feed_page(user_ids=[u.pk for u in users], request=page_request(first=100)).rows
    assert [row["id"] for row in rows] == visible_newest_first(users)
    assert len(rows) == 17
    assert rows[0]["id"] == correction.pk  # the coin event's correction, as new, is not there


@pytest.mark.postgres
@pytest.mark.parametrize("deep", [False, True])
def test_cost_is_bounded_by_the_followed_users_and_the_page_not_their_histories(deep):
    """200 users of 60 events each (12,000): a page of 20 reads one head row per user and a
    window of the page, with no sequential scan and no sort of the histories."""
    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        [user_model(username=f"followed{i}") for i in range(200)]
    )
    for i in range(60):
        record_activity(
            events=[
                NewEvent(
                    user_id=user.pk,
                    event_type=EventType.MATCH_PLAYED,
                    timestamp=BASE_TIME + timedelta(minutes=i * 200 + n),
                    metadata={},
                    source_model="tests.bulk",
                    source_id=i * 200 + n + 1,
                )
                for n, user in enumerate(users)
            ]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ledger_useractivity")
        cursor.execute("ANALYZE auth_user")
    ids = [u.pk for u in users]
    after = None
    if deep:
        middle = UserActivity.objects.order_by("-timestamp", "-id")[6000]
        after = Position(key=middle.timestamp, id=middle.pk)
    events = and_its_partitions("ledger_useractivity")
    feed_index = and_its_partitions("ledger_activity_feed_shown")
    with CaptureQueriesContext(connection) as queries:
        page = merged_feed_page(user_ids=ids, request=page_request(first=20, after=after))
    assert len(page.rows) == 20
    assert len(queries.captured_queries) == 2
    read = 0
    for query in queries.captured_queries:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query["sql"])
            plan = cursor.fetchone()[0]
        plan = plan if isinstance(plan, list) else json.loads(plan)
        nodes = plan_nodes(plan[0]["Plan"])
        scans = [n for n in nodes if n.get("Relation Name") in events]
        # A month's partition with no rows (the months made ahead) may be "scanned" for nothing;
        # every row read comes through the feed index.
        reading = [n for n in scans if n["Actual Rows"] + n.get("Rows Removed by Filter", 0)]
        assert reading
        assert all(n.get("Index Name") in feed_index for n in reading), json.dumps(plan)
        read += sum(n["Actual Rows"] * n["Actual Loops"] for n in scans)
        sorts = [n for n in nodes if n["Node Type"] == "Sort"]
        assert all(n["Actual Rows"] <= 200 for n in sorts), json.dumps(plan)
    # One head per user, then a window of the page from at most 21 users.
    assert read <= 200 + 21 * 2, read


histories_strategy = st.lists(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=12),  # minutes: ties across and within users
            st.sampled_from(
                [EventType.MATCH_PLAYED, EventType.ACHIEVEMENT_UNLOCKED, EventType.COINS_EARNED]
            ),
        ),
        max_size=8,
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories=histories_strategy, size=st.integers(min_value=1, max_value=6))
def test_any_histories_page_forward_and_backward_as_the_naive_merge(histories, size):
    """Property: for random histories (ties, coin events, users without events) and any page
    size, walking forward and walking backward give exactly the naive merge."""
    with transaction.atomic():
        users = players_with(
            [
                [(BASE_TIME + timedelta(minutes=minute), kind) for minute, kind in events]
                for events in histories
            ]
        )
        ids = [u.pk for u in users]
        expected = visible_newest_first(users)
        assert walk(ids, size) == expected
        seen: list[int] = []
        before = None
        while True:
            page = merged_feed_page(user_ids=ids, request=page_request(last=size, before=before))
            seen = [row["id"] for row in page.rows] + seen
            if not page.has_previous:
                break
            oldest = page.rows[0]
            before = Position(key=oldest["timestamp"], id=oldest["id"])
        assert seen == expected
        transaction.set_rollback(True)


def _month_start(offset: int) -> datetime:
    """The first moment of the month ``offset`` months from this one, in UTC."""
    now = timezone.now().astimezone(UTC)
    index = now.year * 12 + now.month - 1 + offset
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    histories=st.lists(
        st.lists(
            st.tuples(
                st.integers(min_value=-10, max_value=1),  # months from this one: ahead too
                st.sampled_from([0, 1, 20]),  # minutes into the month: its bound, and ties
                st.sampled_from([EventType.MATCH_PLAYED, EventType.COINS_EARNED]),
            ),
            max_size=6,
        ),
        min_size=1,
        max_size=6,
    ),
    known=st.sets(st.integers(min_value=-12, max_value=2)),
    rate=st.integers(min_value=1, max_value=4),
    size=st.integers(min_value=1, max_value=4),
)
def test_heads_read_in_a_window_of_months_page_as_the_naive_merge(histories, known, rate, size):
    """Property: with the heads read in a first window of months (decision 0026), whatever the
    months known (a stale list) and the window's size, a forward walk is the naive merge."""
    months = sorted(_month_start(offset).date() for offset in known)
    with (
        transaction.atomic(),
        patch.object(type(recorder()), "partition_months", lambda self: months),
        patch.object(windows, "EVENTS_A_MONTH", rate),
    ):
        users = players_with(
            [
                [
                    (_month_start(offset) + timedelta(minutes=minute), kind)
                    for offset, minute, kind in events
                ]
                for events in histories
            ]
        )
        assert walk([u.pk for u in users], size) == visible_newest_first(users)
        transaction.set_rollback(True)


@pytest.mark.postgres
def test_a_first_pages_heads_are_planned_over_the_window_only():
    """Thirty players with an event in each of the last twelve months: the heads statement of
    a page of 5 reads this month and the one before (and the months ahead), not the ten below."""
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"windowed{i}") for i in range(30)]
    )
    record_activity(
        events=[
            NewEvent(
                user_id=user.pk,
                event_type=EventType.MATCH_PLAYED,
                timestamp=_month_start(-offset) + timedelta(hours=n),
                metadata={},
                source_model="tests.windows",
                source_id=offset * 100 + n + 1,
            )
            for offset in range(12)
            for n, user in enumerate(users)
        ]
    )
    months = sorted(recorder().event_months())
    with (
        patch.object(type(recorder()), "partition_months", lambda self: months),
        patch.object(windows, "EVENTS_A_MONTH", 3),
        CaptureQueriesContext(connection) as queries,
    ):
        page = merged_feed_page(user_ids=[u.pk for u in users], request=page_request(first=5))
    assert len(page.rows) == 5
    heads_sql = queries.captured_queries[0]["sql"]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + heads_sql)
        plan = cursor.fetchone()[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    scanned = {n["Relation Name"] for n in plan_nodes(plan[0]["Plan"]) if "Relation Name" in n}
    window = f"ledger_useractivity_{_month_start(-1):%Y_%m}"
    events = {name for name in scanned if name.startswith("ledger_useractivity_")}
    assert window in events
    assert all(name >= window for name in events), events
