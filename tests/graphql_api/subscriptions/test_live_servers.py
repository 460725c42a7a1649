"""End to end: real uvicorn processes on PostgreSQL and Redis, a third-party client (gql over
graphql-transport-ws), events recorded by other processes (``manage.py shell -c``).

The test process and the servers share the test database (transaction=True: rows are
committed) and one Redis db with a prefix unique to this run. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from django.db import connection
from gql import GraphQLRequest, gql
from websockets.typing import Subprotocol

from graphql_api.auth.tokens import issue_api_token
from graphql_api.subscriptions.credentials import CREDENTIALS_EXPIRED, credentials_group
from graphql_api.subscriptions.groups import user_group
from ledger.models import UserActivity
from tests.factories import UserFactory
from tests.graphql_api.conftest import db_id
from tests.support import services
from tests.support.processes import run_python
from tests.support.servers import server_environment, start_uvicorn, stop, subscription_client

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]

ROOT = Path(__file__).resolve().parents[3]
REDIS_DB = 11
WAIT = 20.0
IDLE = 12.0
"""Longer than redis-py's default 5 s socket timeout, which silently drops idle subscribers."""

FEED = """subscription($after: String) {
  activityAdded(after: $after) { cursor node { id eventType } } }"""

COMPLETE_TOURNAMENT = """
from django.contrib.auth import get_user_model
from esports.tournaments.models import Match, Registration, Tournament, TournamentResult
U = get_user_model()
a, b = U.objects.get(username="alice"), U.objects.get(username="bob")
t = Tournament.objects.create(name="Live Cup", game="valorant", status="registration")
ra = Registration.objects.create(tournament=t, user=a, status="confirmed")
rb = Registration.objects.create(tournament=t, user=b, status="confirmed")
for r in (ra, rb):
    r.checked_in = True
    r.save()
Match.objects.create(tournament=t, round=1, participant1=ra, participant2=rb,
                     state="completed", winner=ra)
TournamentResult.objects.create(tournament=t, winner=ra, runner_up=rb)
t.status = "completed"
t.save()
"""

UNLOCK = """
from django.contrib.auth import get_user_model
from esports.achievements.models import Achievement, UserAchievement
user = get_user_model().objects.get(username="alice")
for code in {codes!r}:
    achievement, _ = Achievement.objects.get_or_create(code=code, defaults={{"name": code}})
    UserAchievement.objects.create(user=user, achievement=achievement)
"""


free_port = services.free_port


@pytest.fixture
def live_env() -> dict[str, str]:
    return server_environment(redis_db=REDIS_DB, prefix="dclive")


@pytest.fixture
def start_server(live_env: dict[str, str]) -> Iterator[Callable[[], str]]:
    """Start a uvicorn process on a free port; return its ws:// URL. Stopped at teardown."""
    processes: list[subprocess.Popen[bytes]] = []

    def start() -> str:
        process, port = start_uvicorn(live_env, options=(), output=None, timeout=WAIT)
        processes.append(process)
        return f"ws://127.0.0.1:{port}/graphql/"

    yield start
    stop(processes)


@pytest.fixture
def record(live_env: dict[str, str]) -> Callable[[str], None]:
    """Run ``code`` in another process: ``manage.py shell -c`` (the platform's own saves)."""

    def run(code: str) -> None:
        run_python(["manage.py", "shell", "-c", code], env=live_env)

    return run


async def wait_joined(
    env: dict[str, str], user_id: int, members: int = 1, group: str | None = None
) -> None:
    """Bounded wait until ``members`` connections joined the user's group (or ``group``) in
    Redis."""
    import redis.asyncio as aredis

    client = aredis.Redis.from_url(env["REDIS_URL"])
    key = f"{env['CHANNEL_LAYER_PREFIX']}:group:{group or user_group(user_id)}"
    try:
        async with asyncio.timeout(WAIT):
            while await client.zcard(key) < members:
                await asyncio.sleep(0.05)
    finally:
        await client.aclose()


async def take(stream: Any, count: int) -> list[dict[str, Any]]:
    edges = []
    async with asyncio.timeout(WAIT):
        for _ in range(count):
            result = await anext(stream)
            edges.append(result["activityAdded"])
    return edges


async def nothing_more(stream: Any, seconds: float = 1.0) -> bool:
    try:
        async with asyncio.timeout(seconds):
            await anext(stream)
    except TimeoutError:
        return True
    return False


def feed_ids(username: str) -> list[int]:
    return list(
        UserActivity.objects.filter(user__username=username)
        .order_by("timestamp", "id")
        .values_list("id", flat=True)
    )


async def feed_ids_now(username: str) -> list[int]:
    """feed_ids from a worker thread, closing that thread's connection (the test DB must drop)."""

    def read() -> list[int]:
        try:
            return feed_ids(username)
        finally:
            connection.close()

    return await asyncio.to_thread(read)


def ids(edges: list[dict[str, Any]]) -> list[int]:
    return [db_id(edge["node"]["id"]) for edge in edges]


def test_reconnect_with_after_receives_exactly_the_missed_events_then_live_ones(
    start_server, record, live_env
):
    alice = UserFactory.create(username="alice")
    UserFactory.create(username="bob")
    _, token = issue_api_token(user=alice)
    url = start_server()

    async def scenario() -> tuple[list[dict], list[dict], list[dict]]:
        async with subscription_client(url, token) as session:
            stream = session.subscribe(gql(FEED))
            first = asyncio.ensure_future(take(stream, 1))
            await wait_joined(live_env, alice.pk)
            await asyncio.to_thread(record, COMPLETE_TOURNAMENT)
            expected = await feed_ids_now("alice")
            tournament = [*(await first), *(await take(stream, len(expected) - 1))]
            assert await nothing_more(stream)
        # disconnected: the platform goes on
        await asyncio.to_thread(record, UNLOCK.format(codes=["first-blood", "ace", "clutch"]))
        async with subscription_client(url, token) as session:
            stream = session.subscribe(
                GraphQLRequest(FEED, variable_values={"after": tournament[-1]["cursor"]})
            )
            missed = await take(stream, 3)
            await wait_joined(live_env, alice.pk)
            await asyncio.to_thread(record, UNLOCK.format(codes=["comeback"]))
            live = await take(stream, 1)
            assert await nothing_more(stream)
        return tournament, missed, live

    tournament, missed, live = asyncio.run(scenario())
    everything = feed_ids("alice")
    n = len(tournament)
    assert [e["node"]["eventType"] for e in tournament] == [
        "TOURNAMENT_REGISTERED",
        "TOURNAMENT_JOINED",
        "MATCH_PLAYED",
        "MATCH_WON",
        "TOURNAMENT_WON",
        "TOURNAMENT_COMPLETED",
    ]
    assert ids(tournament) == everything[:n]
    assert ids(missed) == everything[n : n + 3]
    assert [e["node"]["eventType"] for e in missed] == ["ACHIEVEMENT_UNLOCKED"] * 3
    assert ids(live) == everything[n + 3 :]
    assert len(everything) == n + 4


def test_an_idle_subscriber_on_another_server_process_receives_a_command_s_event(
    start_server, record, live_env
):
    alice = UserFactory.create(username="alice")
    _, token = issue_api_token(user=alice)
    url_a, url_b = start_server(), start_server()

    async def scenario() -> tuple[list[dict], list[dict]]:
        async with (
            subscription_client(url_a, token) as on_a,
            subscription_client(url_b, token) as on_b,
        ):
            stream_a, stream_b = on_a.subscribe(gql(FEED)), on_b.subscribe(gql(FEED))
            got_a = asyncio.ensure_future(take(stream_a, 1))
            got_b = asyncio.ensure_future(take(stream_b, 1))
            await wait_joined(live_env, alice.pk, members=2)
            await asyncio.sleep(IDLE)  # idle past redis-py's default socket timeout
            await asyncio.to_thread(record, UNLOCK.format(codes=["patience"]))
            return await got_a, await got_b

    on_a, on_b = asyncio.run(scenario())
    [event_id] = feed_ids("alice")
    assert ids(on_a) == ids(on_b) == [event_id]


def test_revoking_a_token_with_the_command_closes_its_connections_on_every_server(
    start_server, live_env
):
    """The revocation is announced through Redis from another process (the management
    command): each server closes the connections opened with that token, 4401."""
    alice = UserFactory.create(username="alice")
    _, token = issue_api_token(user=alice)
    urls = [start_server(), start_server()]

    async def open_feed(url: str) -> Any:
        ws = await websockets.connect(url, subprotocols=[Subprotocol("graphql-transport-ws")])
        await ws.send(json.dumps({"type": "connection_init", "payload": bearer(token)}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        payload = {"query": FEED, "variables": {}}  # a live feed the revocation must stop
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        return ws

    async def closed(ws: Any) -> tuple[int | None, str | None]:
        try:
            async with asyncio.timeout(WAIT):
                while True:
                    await ws.recv()
        except websockets.ConnectionClosed as closing:
            return (closing.rcvd.code, closing.rcvd.reason) if closing.rcvd else (None, None)

    async def scenario() -> list[tuple[int | None, str | None]]:
        sockets = [await open_feed(url) for url in urls]
        await wait_joined(live_env, alice.pk, members=2, group=credentials_group(alice.pk))
        revoke = ["manage.py", "create_api_token", "alice", "--revoke"]
        await asyncio.to_thread(run_python, revoke, env=live_env)
        return [await closed(ws) for ws in sockets]

    assert asyncio.run(scenario()) == [(4401, CREDENTIALS_EXPIRED)] * 2


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
