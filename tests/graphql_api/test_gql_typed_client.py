"""A third-party client (``gql`` over HTTP) against a live uvicorn server on PostgreSQL: it reads
typed feeds with a fragment on each concrete type, refetches every node it met, and never gets
by ``node``/``nodes`` an event the lists would hide from it.

The demo history is the fixture: every event type, corrections, team and solo matches, coins, a
private player, and (added here) an erased opponent.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport

from esports.demo import load_demo_data
from esports.tournaments.models import Match, Registration, Tournament
from ledger.models import UserActivity
from ledger.operations.gdpr import anonymize_user
from tests.graphql_api.typed_feed import TYPED_FEED, event_gid, expected_node
from tests.support import services
from tests.web.conftest import Server

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]

User = get_user_model()
NODES = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"""
FEED_IDS = """query($userId: ID, $after: String) {
  activityFeed(userId: $userId, first: 100, after: $after) {
    edges { node { id } } pageInfo { hasNextPage endCursor } } }"""


@pytest.fixture
def server() -> Iterator[Server]:
    """One uvicorn worker on the test database (HTTP only: no Redis needed)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_TEST_DB_NAME", "REDIS_URL")}
    env.update(
        DATABASE_URL=services.postgres_url(connection.settings_dict),
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_CONN_MAX_AGE="0",
    )
    running = Server(env).start()
    try:
        yield running
    finally:
        running.stop()


def token_for(username: str) -> str:
    out = io.StringIO()
    call_command("create_api_token", username, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip().splitlines()[-1]


class Api:
    """A gql client over HTTP, as one viewer (a bearer token) or anonymous."""

    def __init__(self, server: Server, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        transport = RequestsHTTPTransport(url=f"{server.url}/graphql/", headers=headers, timeout=30)
        self.client = Client(transport=transport, fetch_schema_from_transport=False)

    def run(self, query: str, **variables: Any) -> dict[str, Any]:
        return self.client.execute(GraphQLRequest(query, variable_values=variables))

    def pages(self, query: str, **variables: Any) -> list[dict[str, Any]]:
        """Every edge's node of a feed, page by page; [] when the feed is FORBIDDEN to us."""
        nodes: list[dict[str, Any]] = []
        after = None
        while True:
            try:
                feed = self.run(query, **variables, after=after)["activityFeed"]
            except TransportQueryError as refused:
                if [e["extensions"]["code"] for e in refused.errors or []] != ["FORBIDDEN"]:
                    raise
                return []
            nodes += [edge["node"] for edge in feed["edges"]]
            if not feed["pageInfo"]["hasNextPage"]:
                return nodes
            after = feed["pageInfo"]["endCursor"]

    def close(self) -> None:
        if getattr(self.client, "session", None) is not None:  # opened by a request
            self.client.close_sync()


def linked_ids(value: Any) -> set[str]:
    """Every object id a response holds (nodes met through the typed fields)."""
    if isinstance(value, dict):
        found = {value["id"]} if isinstance(value.get("id"), str) else set()
        for item in value.values():
            found |= linked_ids(item)
        return found
    if isinstance(value, list):
        return set().union(*(linked_ids(item) for item in value)) if value else set()
    return set()


def erase_an_opponent() -> None:
    """Erin loses a match to Alice and is then erased: Alice's events keep her scrubbed name,
    and Erin's own events belong to no one (staff only)."""
    alice, erin = User.objects.get(username="alice"), User.objects.get(username="erin")
    cup = Tournament.objects.create(name="Farewell Cup", game="valorant", team_size=1)
    mine = Registration.objects.create(tournament=cup, user=alice, status="confirmed")
    theirs = Registration.objects.create(tournament=cup, user=erin, status="confirmed")
    Match.objects.create(
        tournament=cup, participant1=mine, participant2=theirs, state="completed", winner=mine
    )
    anonymize_user(user=erin)


def test_a_client_reads_typed_feeds_and_refetches_every_node_it_met(server):
    load_demo_data()
    erase_an_opponent()
    User.objects.create_user("ops", is_staff=True)
    viewers = {
        "anonymous": Api(server),
        "alice": Api(server, token_for("alice")),
        "bob": Api(server, token_for("bob")),
        "staff": Api(server, token_for("ops")),
    }
    try:
        # The owner's typed feed: each event's typed fields are what it recorded.
        alice = User.objects.get(username="alice")
        nodes = viewers["alice"].pages(TYPED_FEED, userId=str(alice.pk))
        events = UserActivity.objects.filter(user=alice).select_related("user", "reverses")
        assert nodes == [expected_node(e) for e in events.order_by("-timestamp", "-id")]
        assert {n["__typename"] for n in nodes} >= {
            "MatchWonEvent",
            "CorrectionEvent",
            "CoinsEarnedEvent",
            "TeamCreatedEvent",
            "TournamentWonEvent",
        }
        erased = [n for n in nodes if n.get("opponentName") == "[erased]"]
        assert len(erased) == 2  # played and won, against the erased player
        assert all(n["opponent"] is None for n in erased)

        # Every object met on the way refetches by node(id:) as itself.
        met = sorted(linked_ids(nodes))
        for chunk in range(0, len(met), 100):
            ids = met[chunk : chunk + 100]
            found = viewers["alice"].run(NODES, ids=ids)["nodes"]
            assert [n["id"] for n in found] == ids

        # node/nodes never show an event the lists hide, to anyone: per viewer and player,
        # the events nodes() returns are exactly those of that player's feed for that viewer.
        every_event = list(UserActivity.objects.order_by("id"))
        ids = [event_gid(e) for e in every_event]
        erased_ids = {event_gid(e) for e in every_event if e.user_id is None}
        assert erased_ids
        for name, api in viewers.items():
            listed: set[str] = set()
            for player in User.objects.filter(activities__isnull=False).distinct():
                listed |= {n["id"] for n in api.pages(FEED_IDS, userId=str(player.pk))}
            refetched: set[str] = set()
            for chunk in range(0, len(ids), 100):
                found = api.run(NODES, ids=ids[chunk : chunk + 100])["nodes"]
                refetched |= {n["id"] for n in found if n is not None}
            # Staff see everything; an erased player's events (no owner) are in no list.
            assert refetched == (listed | erased_ids if name == "staff" else listed), name
        assert len(listed) == len(ids) - len(erased_ids)  # staff listed every owned event
    finally:
        for api in viewers.values():
            api.close()
