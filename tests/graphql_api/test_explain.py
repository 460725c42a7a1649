"""On PostgreSQL, a deep feed page is an index range scan on ledger_activity_feed."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from ledger.models import UserActivity
from ledger.selectors import Position, activity_feed_query, page_request
from tests.factories import UserFactory
from tests.graphql_api.conftest import make_events
from tests.support.plans import and_its_partitions, plan_nodes

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.mark.parametrize("include_economy", [True, False])
def test_a_deep_feed_page_scans_the_feed_index_as_a_range(include_economy):
    users = [UserFactory.create() for _ in range(4)]
    for i, user in enumerate(users):
        make_events(user, 6000 if i == 1 else 1000, source_model=f"tests.bulk{i}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ledger_useractivity")
    target = users[1]
    deep = UserActivity.objects.filter(user=target).order_by("-timestamp", "-id")[1200]
    request = page_request(first=50, after=Position(key=deep.timestamp, id=deep.pk))
    query = activity_feed_query(user_id=target.pk, request=request, include_economy=include_economy)
    plan = json.loads(query.explain(format="json"))
    nodes = plan_nodes(plan[0]["Plan"])
    # Others' view (no coin events) reads the partial index that holds only what they see; on
    # a partitioned table, the scans are of each month's copy of it.
    index = "ledger_activity_feed" if include_economy else "ledger_activity_feed_shown"
    feed_indexes = and_its_partitions(index)
    scans = [n for n in nodes if n.get("Index Name") in feed_indexes]
    assert scans, json.dumps(plan, indent=1)
    scan = scans[0]
    assert scan["Node Type"] in {"Index Scan", "Index Only Scan"}
    assert '"timestamp" <=' in scan["Index Cond"] or "timestamp <=" in scan["Index Cond"], scan
    assert "user_id" in scan["Index Cond"]
    assert not any(n["Node Type"] in {"Seq Scan", "Sort"} for n in nodes), json.dumps(plan)
    assert len(list(query)) == 51


BOARD_INDEXES = {
    "tournaments_won": "ledger_stats_twon",
    "matches_won": "ledger_stats_mwon",
    "total_earned": "ledger_stats_earned",
}
DEEP_VALUE = {"tournaments_won": 5, "matches_won": 80, "total_earned": 9000}
"""A cursor a few hundred ranks down, with most of the table still ahead of it."""


@pytest.fixture
def many_stats_rows():
    """20,000 stats rows written directly: this measures the planner, not the write path."""
    from django.contrib.auth import get_user_model

    from ledger.models import UserProfileStats

    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        [user_model(username=f"ranked{i}") for i in range(20_000)], batch_size=2000
    )
    UserProfileStats.objects.bulk_create(
        [
            UserProfileStats(
                user=user,
                tournaments_won=i % 7,
                tournaments_played=i % 11 + 7,
                matches_won=i % 97,
                matches_played=i % 101 + 97,
                total_earned=(i * 37) % 10_007,
            )
            for i, user in enumerate(users)
        ],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ledger_userprofilestats")


@pytest.mark.parametrize("board", sorted(BOARD_INDEXES))
def test_counter_leaderboards_read_their_index_backwards(many_stats_rows, board):
    from ledger.selectors import BoardPosition, leaderboard_query

    deep = BoardPosition(value=DEEP_VALUE[board], tie=9, user_id=10_000, rank=500)
    for after in (None, deep):
        query = leaderboard_query(board=board, first=50, after=after)
        plan = json.loads(query.explain(format="json"))
        nodes = plan_nodes(plan[0]["Plan"])
        scans = [n for n in nodes if n.get("Index Name") == BOARD_INDEXES[board]]
        assert scans, json.dumps(plan, indent=1)
        assert scans[0]["Node Type"] in {"Index Scan", "Index Only Scan"}
        assert scans[0]["Scan Direction"] == "Backward"
        assert not any(n["Node Type"] in {"Seq Scan", "Sort"} for n in nodes), json.dumps(plan)
