"""A third-party client (the ``gql`` package over real HTTP) against a live server.

Pages through a 1,000-event feed with no duplicate and no gap, reads stats equal to a
recompute, and runs each staff operation.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core.management import call_command
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport

from ledger.models import EventType, LedgerJob, UserActivity
from ledger.services.stats import recompute_stats
from tests.factories import UserFactory, transaction_for
from tests.graphql_api.conftest import BASE_TIME, db_id, make_events

pytestmark = pytest.mark.django_db(transaction=True)

FEED = """query($first: Int, $after: String) {
  activityFeed(first: $first, after: $after) {
    edges { node { id } } pageInfo { hasNextPage endCursor } } }"""
STATS = """{ stats { matchesPlayed matchesWon totalEarned achievementsCount winRate netEarnings
  lastActivityAt } }"""


def token_for(username: str) -> str:
    out = io.StringIO()
    call_command("create_api_token", username, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip().splitlines()[-1]


@pytest.fixture
def connect(live_server) -> Iterator:
    clients = []

    def make(token: str) -> Client:
        transport = RequestsHTTPTransport(
            url=f"{live_server.url}/graphql/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        client = Client(transport=transport, fetch_schema_from_transport=False)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close_sync()


def run(client: Client, query: str, **variables):
    return client.execute(GraphQLRequest(query, variable_values=variables))


def test_a_thousand_event_feed_pages_without_duplicate_or_gap(connect):
    user = UserFactory.create(username="veteran")
    make_events(user, 400)
    make_events(user, 300, event_type=EventType.MATCH_PLAYED, source_model="tests.played")
    make_events(user, 150, event_type=EventType.MATCH_WON, source_model="tests.won")
    # 150 more at one shared instant: only the id orders them, and pages must split them right
    make_events(
        user, 149, step=timedelta(0), start=BASE_TIME + timedelta(days=1), source_model="tests.tied"
    )
    transaction_for(user, 75)
    expected = list(
        UserActivity.objects.filter(user=user)
        .order_by("-timestamp", "-id")
        .values_list("id", flat=True)
    )
    assert len(expected) == 1000
    client = connect(token_for("veteran"))
    seen: list[int] = []
    after, pages = None, 0
    while True:
        page = run(client, FEED, first=97, after=after)["activityFeed"]
        seen += [db_id(edge["node"]["id"]) for edge in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 1000
    assert seen == expected
    assert pages == 11

    stats = run(client, STATS)["stats"]
    recomputed = recompute_stats(user=user)
    assert stats["matchesPlayed"] == recomputed["matches_played"] == 300
    assert stats["matchesWon"] == recomputed["matches_won"] == 150
    assert stats["achievementsCount"] == recomputed["achievements_count"] == 549
    assert stats["totalEarned"] == recomputed["total_earned"] == 75
    assert stats["winRate"] == 0.5
    assert stats["netEarnings"] == 75
    assert stats["lastActivityAt"] == recomputed["last_activity_at"].isoformat()


def test_staff_run_each_operation_over_http(connect, settings, tmp_path):
    settings.LEDGER_EXPORT_DIR = tmp_path
    UserFactory.create(username="ops", is_staff=True)
    player = UserFactory.create(username="someone")
    transaction_for(player, 10)
    staff = connect(token_for("ops"))
    kinds = {
        "backfillActivity": ("input: {dryRun: true}", "BACKFILL"),
        "reconcileStats": ("input: {fix: true}", "RECONCILE"),
        "exportUserData": (f'input: {{userId: "{player.pk}"}}', "EXPORT"),
        "anonymizeUser": (f'input: {{userId: "{player.pk}"}}', "ANONYMIZE"),
    }
    for field, (arguments, kind) in kinds.items():
        job = run(staff, f"mutation {{ {field}({arguments}) {{ id kind status }} }}")[field]
        assert (job["kind"], job["status"]) == (kind, "SUCCEEDED"), field
    assert LedgerJob.objects.count() == 4
    assert UserActivity.objects.filter(user=player).count() == 0  # erased

    outsider = connect(token_for("someone"))
    with pytest.raises(TransportQueryError, match="Only staff"):
        run(outsider, "mutation { reconcileStats(input: {fix: true}) { id } }")
    assert LedgerJob.objects.count() == 4
