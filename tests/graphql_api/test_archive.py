"""The archive over GraphQL: the staff mutation, its input errors, and where the feed ends."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.models import ArchivedFile, LedgerJob
from tests.factories import UserFactory
from tests.graphql_api.conftest import error_codes
from tests.ledger.archive.history import archive_dir, make_history

pytestmark = pytest.mark.django_db

__all__ = ["archive_dir"]

ARCHIVE = """mutation($before: String!) {
  archiveActivity(input: {before: $before}) { kind status result } }"""
FEED = """query($first: Int, $after: String) {
  activityFeed(first: $first, after: $after) {
    edges { cursor node { timestamp eventType } }
    pageInfo { hasNextPage endCursor archivedBefore }
  } }"""


@pytest.fixture
def staff() -> Any:
    return UserFactory.create(username="staff_archive", is_staff=True)


def test_staff_archive_old_months_as_a_job(graphql: Any, staff: Any, archive_dir: Any) -> None:
    make_history()

    result = graphql(ARCHIVE, {"before": "2023-04-01"}, user=staff)

    job = result["data"]["archiveActivity"]
    assert (job["kind"], job["status"]) == ("ARCHIVE", "SUCCEEDED")
    assert job["result"]["events"] == 7
    assert ArchivedFile.objects.count() == 3
    assert LedgerJob.objects.get().requested_by == staff


def test_players_may_not_archive(graphql: Any, archive_dir: Any) -> None:
    history = make_history()

    result = graphql(ARCHIVE, {"before": "2023-04-01"}, user=history.erin)

    assert error_codes(result) == ["FORBIDDEN"]
    assert not LedgerJob.objects.exists()


@pytest.mark.parametrize("before", ["2023-02-30", "April 2023", "2999-01-01"])
def test_a_malformed_or_future_date_is_bad_input(
    graphql: Any, staff: Any, archive_dir: Any, before: str
) -> None:
    result = graphql(ARCHIVE, {"before": before}, user=staff)

    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert not LedgerJob.objects.exists()


def _whole_feed(graphql: Any, user: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    edges: list[dict[str, Any]] = []
    after = None
    while True:
        page = graphql(FEED, {"first": 2, "after": after}, user=user)["data"]["activityFeed"]
        edges += page["edges"]
        if not page["pageInfo"]["hasNextPage"]:
            return edges, page["pageInfo"]
        after = page["pageInfo"]["endCursor"]


def test_the_feed_ends_at_the_archive_horizon_and_says_so(
    graphql: Any, staff: Any, archive_dir: Any
) -> None:
    history = make_history()
    edges, last = _whole_feed(graphql, history.erin)
    assert len(edges) == 6
    assert last["archivedBefore"] is None

    graphql(ARCHIVE, {"before": "2023-04-01"}, user=staff)

    edges, last = _whole_feed(graphql, history.erin)
    assert [edge["node"]["eventType"] for edge in edges] == [
        "COINS_EARNED",
        "TOURNAMENT_REGISTERED",
    ]
    assert last["archivedBefore"] == "2023-04-01T00:00:00+00:00"
    assert all(edge["node"]["timestamp"] >= last["archivedBefore"] for edge in edges)
