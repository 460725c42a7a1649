"""activityFeed: keyset pages newest first, caps, filters, cursors, corrections, query counts."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger.models import EventType, UserActivity
from tests.factories import UserFactory, transaction_for
from tests.graphql_api.conftest import BASE_TIME, db_id, error_codes, make_events

pytestmark = pytest.mark.django_db

FEED = """
query Feed($userId: ID, $first: Int, $after: String, $last: Int, $before: String,
           $filter: ActivityFilter) {
  activityFeed(userId: $userId, first: $first, after: $after, last: $last, before: $before,
               filter: $filter) {
    edges { cursor node { id eventType timestamp metadata sourceModel sourceId amount
                          correctsId correctsEventType } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def feed_ids(result):
    return [db_id(edge["node"]["id"]) for edge in result["data"]["activityFeed"]["edges"]]


def newest_first_ids(user):
    return list(
        UserActivity.objects.filter(user=user)
        .order_by("-timestamp", "-id")
        .values_list("id", flat=True)
    )


def test_first_pages_walk_every_event_once_newest_first(graphql):
    user = UserFactory.create()
    make_events(user, 7)
    # Two events at the same instant: the id breaks the tie, and the cursor must keep it.
    make_events(
        user,
        2,
        start=BASE_TIME + timedelta(minutes=3),
        step=timedelta(0),
        source_model="tests.tied",
    )
    expected = newest_first_ids(user)
    seen, after, pages = [], None, 0
    while True:
        result = graphql(FEED, {"first": 3, "after": after}, user=user)
        page = result["data"]["activityFeed"]
        seen += feed_ids(result)
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected
    assert len(expected) == 9
    assert pages == 3


def test_last_before_pages_backwards(graphql):
    user = UserFactory.create()
    make_events(user, 6)
    expected = newest_first_ids(user)
    oldest_two = graphql(FEED, {"last": 2}, user=user)
    assert feed_ids(oldest_two) == expected[4:]
    info = oldest_two["data"]["activityFeed"]["pageInfo"]
    assert info["hasPreviousPage"] is True
    before = graphql(FEED, {"last": 3, "before": info["startCursor"]}, user=user)
    assert feed_ids(before) == expected[1:4]
    assert before["data"]["activityFeed"]["pageInfo"]["hasPreviousPage"] is True
    newest = graphql(
        FEED,
        {"last": 3, "before": before["data"]["activityFeed"]["pageInfo"]["startCursor"]},
        user=user,
    )
    assert feed_ids(newest) == expected[:1]
    assert newest["data"]["activityFeed"]["pageInfo"]["hasPreviousPage"] is False


def test_default_page_is_50_and_100_is_the_cap(graphql):
    user = UserFactory.create()
    make_events(user, 120)
    assert len(feed_ids(graphql(FEED, {}, user=user))) == 50
    assert len(feed_ids(graphql(FEED, {"first": 100}, user=user))) == 100
    for args in ({"first": 101}, {"last": 500}, {"first": -1}, {"first": 2, "last": 2}):
        result = graphql(FEED, args, user=user)
        assert result["data"] is None
        assert error_codes(result) == ["BAD_USER_INPUT"], args


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        base64.urlsafe_b64encode(b"feed:yesterday:1").decode(),
        base64.urlsafe_b64encode(b"job:2026-01-01T00:00:00+00:00:1").decode(),
        base64.urlsafe_b64encode(b"feed:2026-01-01T00:00:00+00:00:x").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_malformed_cursor_is_a_client_error(graphql, cursor):
    user = UserFactory.create()
    make_events(user, 2)
    result = graphql(FEED, {"after": cursor}, user=user)
    assert result["data"] is None
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert "cursor" in result["errors"][0]["message"]


@pytest.mark.parametrize("user_id", ["abc", "0", "999999"])
def test_a_bad_or_unknown_user_id_is_a_client_error(graphql, user_id):
    user = UserFactory.create()
    result = graphql(FEED, {"userId": user_id}, user=user)
    expected = "NOT_FOUND" if user_id == "999999" else "BAD_USER_INPUT"
    assert error_codes(result) == [expected]


def test_filter_by_event_types_and_time_range(graphql):
    user = UserFactory.create()
    make_events(user, 5)  # achievements at 12:00 .. 12:04
    make_events(user, 3, event_type=EventType.TEAM_CREATED, source_model="tests.teams")
    only_teams = graphql(FEED, {"filter": {"eventTypes": ["TEAM_CREATED"]}}, user=user)
    nodes = [e["node"] for e in only_teams["data"]["activityFeed"]["edges"]]
    assert [n["eventType"] for n in nodes] == ["TEAM_CREATED"] * 3
    window = graphql(
        FEED,
        {
            "filter": {
                "eventTypes": ["ACHIEVEMENT_UNLOCKED"],
                "since": (BASE_TIME + timedelta(minutes=1)).isoformat(),
                "until": (BASE_TIME + timedelta(minutes=3)).isoformat(),
            }
        },
        user=user,
    )
    stamps = [e["node"]["timestamp"] for e in window["data"]["activityFeed"]["edges"]]
    assert stamps == ["2026-01-01T12:02:00+00:00", "2026-01-01T12:01:00+00:00"]


def test_filtered_pages_keep_the_filter_across_cursors(graphql):
    user = UserFactory.create()
    make_events(user, 4)
    make_events(user, 4, event_type=EventType.TEAM_CREATED, source_model="tests.teams")
    variables = {"first": 3, "filter": {"eventTypes": ["TEAM_CREATED"]}}
    first = graphql(FEED, variables, user=user)
    end = first["data"]["activityFeed"]["pageInfo"]["endCursor"]
    second = graphql(FEED, {**variables, "after": end}, user=user)
    types = {e["node"]["eventType"] for e in second["data"]["activityFeed"]["edges"]}
    assert len(feed_ids(first)) + len(feed_ids(second)) == 4
    assert types == {"TEAM_CREATED"}


def test_an_unknown_event_type_is_refused_by_the_schema(graphql):
    user = UserFactory.create()
    result = graphql(FEED, {"filter": {"eventTypes": ["DANCED"]}}, user=user)
    assert result["data"] is None
    assert "DANCED" in result["errors"][0]["message"]


def test_a_correction_names_the_event_it_cancels(graphql):
    user = UserFactory.create()
    txn = transaction_for(user, 50)
    txn.amount = 30  # a corrected amount: the old event is reversed, the new one appended
    txn.save()
    nodes = [e["node"] for e in graphql(FEED, {}, user=user)["data"]["activityFeed"]["edges"]]
    reversal = next(n for n in nodes if n["eventType"] == "REVERSAL")
    cancelled = UserActivity.objects.get(reversed_by__isnull=False)
    assert reversal["correctsId"] == str(cancelled.pk)
    assert reversal["correctsEventType"] == "COINS_EARNED"
    assert sorted(n["amount"] for n in nodes if n["eventType"] == "COINS_EARNED") == [30, 50]


def _feed_queries(graphql, user, first):
    with CaptureQueriesContext(connection) as queries:
        result = graphql(FEED, {"first": first}, user=user)
    assert len(feed_ids(result)) == first
    return len(queries)


def test_a_page_of_1_and_of_100_cost_the_same_queries(graphql):
    user = UserFactory.create()
    make_events(user, 100)
    transaction_for(user, 10)
    assert _feed_queries(graphql, user, 1) == _feed_queries(graphql, user, 100)


def test_the_feed_page_itself_is_one_query(graphql):
    """Session + user + subject lookup + the page: the page must not grow with rows."""
    user = UserFactory.create()
    make_events(user, 30)
    with CaptureQueriesContext(connection) as queries:
        graphql(FEED, {"first": 30}, user=user)
    feed_selects = [q for q in queries if "ledger_useractivity" in q["sql"]]
    assert len(feed_selects) == 1
    assert "OFFSET" not in feed_selects[0]["sql"].upper()


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        _b64("feed:2026-01-01T00:00:00+00:00:99999999999999999999999"),
        _b64("feed:2026-01-01T00:00:00:5"),  # no time zone
        _b64("feed:2026-01-01T00:00:00+00:00:-3"),
    ],
)
def test_out_of_range_cursors_are_client_errors_not_database_errors(graphql, cursor):
    user = UserFactory.create()
    result = graphql(FEED, {"after": cursor}, user=user)
    assert error_codes(result) == ["BAD_USER_INPUT"]


def test_an_id_beyond_bigint_is_a_client_error(graphql):
    user = UserFactory.create()
    result = graphql(FEED, {"userId": "9" * 30}, user=user)
    assert error_codes(result) == ["BAD_USER_INPUT"]
