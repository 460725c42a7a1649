"""Replica reads against a real streaming replica (tests/support/replica.py): which connection
each read uses, read-your-writes after a mutation, and writes that never reach the replica."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

import psycopg
import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from esports.profiles.models import UserProfile
from esports.social.models import Follow
from graphql_api.auth.tokens import issue_api_token
from graphql_api.replica import MARKER_COOKIE, MARKER_HEADER, write_marker
from graphql_api.social.feed import following_rows_after
from graphql_api.subscriptions.feed import rows_after
from ledger.models import EventType
from ledger.routing import REPLICA, replica_read, replica_reads_allowed
from ledger.selectors import activity_feed_page, page_request, user_stats
from tests.conftest import REPLICA_TEST
from tests.factories import UserFactory, transaction_for
from tests.graphql_api.conftest import make_events, signed_in_client

pytestmark = [pytest.mark.postgres, REPLICA_TEST, pytest.mark.usefixtures("replica_db")]

FEED = """query($userId: ID) { activityFeed(userId: $userId, first: 10) {
  edges { node { __typename id timestamp } } } }"""
STATS = "query($userId: ID) { stats(userId: $userId) { matchesPlayed totalEarned winRate } }"
PERIODS = """query($userId: ID) { statsByPeriod(userId: $userId, period: MONTH) {
  periodStart matchesPlayed } }"""
BOARD = "{ leaderboard(by: MATCHES_WON, first: 5) { edges { node { rank value } } } }"
HISTORY = """query($userId: ID) {
  tournamentHistory(userId: $userId) { edges { node { placement } } } }"""
ECONOMY = "query($userId: ID) { economySummary(userId: $userId) { earned spent } }"
EXPORT_MINE = "mutation { exportMyData { id status } }"
RECONCILE = "mutation { reconcileStats(input: {fix: true}) { id status } }"

_TABLE = re.compile(r'(?:FROM|JOIN|INTO|UPDATE)\s+"(\w+)"', re.IGNORECASE)


@dataclass
class Reads:
    """The tables each connection's queries named, in the main thread (where the test client
    runs the view's ORM calls)."""

    primary: list[set[str]]
    replica: list[set[str]]

    @property
    def replica_tables(self) -> set[str]:
        return set().union(*self.replica)

    @property
    def primary_tables(self) -> set[str]:
        return set().union(*self.primary)


@contextmanager
def reads() -> Iterator[Reads]:
    found = Reads(primary=[], replica=[])
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as replica,
    ):
        yield found
    found.primary = [set(_TABLE.findall(q["sql"])) for q in primary.captured_queries]
    found.replica = [set(_TABLE.findall(q["sql"])) for q in replica.captured_queries]


def post(client: Client, query: str, variables: dict[str, Any] | None = None, **headers: str):
    response = client.post(
        "/graphql/",
        data=json.dumps({"query": query, "variables": variables or {}}),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert "errors" not in body, body
    return response, body["data"]


@pytest.fixture
def player() -> Any:
    """A public player with 3 matches played (2 won), 150 coins earned, all replayed."""
    user = UserFactory.create(username="ann")
    UserProfile.objects.update_or_create(user=user, defaults={"activity_public": True})
    make_events(user, 3, event_type=EventType.MATCH_PLAYED, source_model="tests.played")
    make_events(user, 2, event_type=EventType.MATCH_WON, source_model="tests.won")
    transaction_for(user, 150)
    return user


def test_the_replica_streams_the_primary_and_databases_created_after_it(replica_db):
    """The replica exists before some databases do (pytest-django may create the test database
    after it on another run): streaming replication carries CREATE DATABASE too."""
    name = "dcreplica_probe"
    primary = connections["default"].settings_dict
    with psycopg.connect(
        host="127.0.0.1", port=int(primary["PORT"]), user=primary["USER"], autocommit=True
    ) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
        try:
            replica_db.catch_up()
            with psycopg.connect(
                host="127.0.0.1", port=replica_db.port, user=primary["USER"], dbname=name
            ) as probe:
                assert probe.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        finally:
            admin.execute(f"DROP DATABASE {name}")


def edges(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in answer["edges"]]


@pytest.mark.parametrize(
    ("query", "replica_tables", "read", "expected"),
    [
        (FEED, {"ledger_useractivity"}, lambda a: len(edges(a)), 6),
        (STATS, {"ledger_userprofilestats", "auth_user"}, lambda a: a["matchesPlayed"], 3),
        (PERIODS, {"ledger_useractivity"}, lambda a: a[0]["matchesPlayed"], 3),
        (BOARD, {"ledger_userprofilestats"}, edges, [{"rank": 1, "value": 2.0}]),
        (HISTORY, {"ledger_useractivity"}, edges, []),
        (ECONOMY, {"ledger_useractivity"}, dict, {"earned": 150, "spent": 0}),
    ],
    ids=["feed", "stats", "periods", "leaderboard", "history", "economy"],
)
def test_a_querys_ledger_reads_go_to_the_replica(
    replica_db, player, query, replica_tables, read, expected
):
    """Each read model of a query comes from the replica, and the primary serves only the
    viewer and the subject (auth, sessions, profiles); the answers are the primary's data."""
    replica_db.catch_up()
    client = signed_in_client(player)
    with reads() as found:
        _, data = post(client, query, {"userId": str(player.pk)} if "$userId" in query else {})
    assert found.replica_tables == replica_tables
    assert not any(t.startswith("ledger_") for t in found.primary_tables), found.primary
    assert read(next(iter(data.values()))) == expected


def test_without_a_scope_selectors_read_the_primary(replica_db, player):
    """Jobs, commands and the write path call selectors outside any API query: primary."""
    replica_db.catch_up()
    with reads() as found:
        stats = user_stats(user_id=player.pk)
        page = activity_feed_page(
            user_id=player.pk, request=page_request(first=10), include_economy=True
        )
    assert (stats["matches_played"], len(page.rows)) == (3, 6)
    assert found.replica == []
    assert found.primary == [{"ledger_userprofilestats"}, {"ledger_useractivity"}]


def test_subscription_catch_up_reads_the_primary_even_inside_a_replica_scope(replica_db, player):
    follower = UserFactory.create(username="fan")
    Follow.objects.create(follower=follower, followed=player)
    replica_db.catch_up()
    with reads() as found, replica_reads_allowed():
        rows, more = rows_after(user_id=player.pk, position=None, include_economy=True)
        followed, more_followed = following_rows_after(follower_id=follower.pk, position=None)
        on_replica = user_stats(user_id=player.pk)  # the scope itself is open
    assert (len(rows), more, len(followed), more_followed) == (6, False, 5, False)
    assert on_replica["matches_played"] == 3
    assert found.primary[0] == {"ledger_useractivity"}
    assert "ledger_useractivity" in found.primary[1]
    assert found.replica == [{"ledger_userprofilestats"}]


def test_a_viewer_reads_the_primary_just_after_their_own_mutation(
    replica_db, player, settings, tmp_path
):
    settings.LEDGER_EXPORT_DIR = tmp_path
    replica_db.catch_up()
    client = signed_in_client(player)
    with reads() as mutation:
        response, data = post(client, EXPORT_MINE)
    assert data["exportMyData"]["status"] == "SUCCEEDED"
    assert mutation.replica == []  # the job (and its reads) ran on the primary
    marker = response[MARKER_HEADER]
    assert client.cookies[MARKER_COOKIE].value == marker
    assert client.cookies[MARKER_COOKIE]["max-age"] == settings.READ_YOUR_WRITES_SECONDS

    with reads() as after_write:  # the cookie came back
        post(client, STATS, {"userId": str(player.pk)})
    assert after_write.replica == []
    assert "ledger_userprofilestats" in after_write.primary_tables

    _, token = issue_api_token(user=player)
    bearer = {"Authorization": f"Bearer {token}"}
    with reads() as by_header:  # a client without cookies sends the header back
        post(Client(), STATS, {"userId": str(player.pk)}, **bearer, **{MARKER_HEADER: marker})
    assert by_header.replica == []

    with reads() as others:  # anyone else, or this viewer without the marker: the replica
        post(Client(), STATS, {"userId": str(player.pk)}, **bearer)
    assert others.replica_tables == {"ledger_userprofilestats", "auth_user"}


@pytest.mark.parametrize("marker", ["expired", "someone else's", "tampered"])
def test_a_marker_that_does_not_hold_reads_the_replica(replica_db, player, settings, marker):
    replica_db.catch_up()
    other = UserFactory.create(username="bob")
    if marker == "expired":
        written = time.time() - settings.READ_YOUR_WRITES_SECONDS - 1
        with mock.patch("django.core.signing.time.time", return_value=written):
            value = write_marker(player)
    elif marker == "someone else's":
        value = write_marker(other)
    else:
        value = write_marker(player)[:-2] + "xx"
    client = signed_in_client(player)
    client.cookies[MARKER_COOKIE] = value
    with reads() as found:
        post(client, STATS, {"userId": str(player.pk)})
    assert found.replica_tables == {"ledger_userprofilestats", "auth_user"}


def test_writes_never_go_to_the_replica(replica_db, player):
    """A staff mutation that writes (reconcile --fix as a job) and a model loaded from the
    replica and saved: both succeed, so nothing tried the replica (it refuses writes)."""
    staff = UserFactory.create(username="mod", is_staff=True)
    replica_db.catch_up()
    client = signed_in_client(staff)
    with reads() as found:
        _, data = post(client, RECONCILE)
    assert data["reconcileStats"]["status"] == "SUCCEEDED"
    assert found.replica == []

    load = replica_read(lambda: UserProfile.objects.get(user=player))
    with replica_reads_allowed(), reads() as found:
        profile = load()
        profile.activity_public = False
        profile.save()
    assert profile._state.db == "default"
    assert found.replica == [{"profiles_userprofile"}]
    assert [t for t in found.primary if t] == [{"profiles_userprofile"}]
    replica_db.catch_up()
    with replica_reads_allowed():
        assert load().activity_public is False


def test_a_user_newer_than_the_replica_is_looked_up_again_on_the_primary(replica_db):
    """stats(userId:) of a user who registered within the replica's lag is not "no such user":
    the replica's miss is read again from the primary."""
    replica_db.catch_up()
    replica_db.pause()
    try:
        newcomer = UserFactory.create(username="newcomer")
        make_events(newcomer, 2, event_type=EventType.MATCH_PLAYED, source_model="tests.played")
        with reads() as found:
            _, data = post(Client(), STATS, {"userId": str(newcomer.pk)})
    finally:
        replica_db.resume()
    assert data["stats"] == {"matchesPlayed": 2, "totalEarned": 0, "winRate": 0.0}
    assert found.replica == [{"auth_user", "ledger_userprofilestats"}]
    assert {"auth_user", "ledger_userprofilestats"} in found.primary
