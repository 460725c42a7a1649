"""Who a connection acts for: bearer token in connection_init, session cookie, or nobody;
close codes for bad credentials; the Origin check that spares native clients."""

from __future__ import annotations

from typing import Any

import pytest

from graphql_api.auth.tokens import issue_api_token, revoke_api_tokens
from tests.factories import UserFactory
from tests.graphql_api.conftest import make_events, signed_in_client
from tests.graphql_api.subscriptions.conftest import (
    FEED,
    closed_with,
    communicator,
    connected,
    follow,
    in_db,
    receive_edges,
    receive_error,
    subscribe,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

STATS = "subscription { statsUpdated { achievementsCount } }"


def session_cookie(user: Any) -> list[tuple[bytes, bytes]]:
    client = signed_in_client(user)
    return [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]


async def test_a_bearer_token_in_connection_init_is_the_viewer():
    user = await in_db(UserFactory.create)(username="mobile")
    _, token = await in_db(issue_api_token)(user=user)
    async with connected({"Authorization": f"Bearer {token}"}) as ws:
        op = await follow(ws, FEED, user_id=user.pk)  # no userId: the viewer's own feed
        await in_db(make_events)(user, 1, first_source_id=7)
        [edge] = await receive_edges(ws, op, 1)
        assert edge["node"]["eventType"] == "ACHIEVEMENT_UNLOCKED"


async def test_the_session_cookie_is_the_viewer_without_a_token():
    user = await in_db(UserFactory.create)(username="browser")
    cookie = await in_db(session_cookie)(user)
    async with connected(headers=cookie) as ws:
        op = await follow(ws, STATS, user_id=user.pk)
        now = await receive_edges_of(ws, op, "statsUpdated", 1)
        await in_db(make_events)(user, 2)
        then = await receive_edges_of(ws, op, "statsUpdated", 1)
    assert (now, then) == ([{"achievementsCount": 0}], [{"achievementsCount": 2}])


async def receive_edges_of(ws: Any, op: str, field: str, count: int) -> list[dict]:
    from tests.graphql_api.subscriptions.conftest import receive_data

    return [(await receive_data(ws, op))[field] for _ in range(count)]


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        ("Bearer not-a-token", "Invalid or revoked API token."),
        ("Bearer ", "Authorization must be 'Bearer <token>'."),
        ("Basic dXNlcjpwYXNz", "Authorization must be 'Bearer <token>'."),
        (42, "Authorization must be 'Bearer <token>'."),
    ],
)
async def test_a_bad_token_closes_4401_before_any_ack(authorization, reason):
    ws = communicator()
    assert (await ws.connect())[0]
    await ws.send_json_to({"type": "connection_init", "payload": {"Authorization": authorization}})
    assert await closed_with(ws) == (4401, reason)
    await ws.disconnect()


async def test_a_revoked_token_closes_4401_even_with_a_valid_session():
    user = await in_db(UserFactory.create)(username="revoked")
    _, token = await in_db(issue_api_token)(user=user)
    await in_db(revoke_api_tokens)(user=user)
    cookie = await in_db(session_cookie)(user)
    ws = communicator(headers=cookie)
    assert (await ws.connect())[0]
    await ws.send_json_to(
        {"type": "connection_init", "payload": {"authorization": f"bearer {token}"}}
    )
    assert await closed_with(ws) == (4401, "Invalid or revoked API token.")
    await ws.disconnect()


@pytest.mark.parametrize(
    "query",
    [
        FEED,
        STATS,
        'subscription { ledgerJobProgress(id: "1") { status } }',
    ],
)
async def test_anonymous_subscription_that_needs_a_viewer_closes_4401(query):
    async with connected() as ws:
        await subscribe(ws, query)
        code, reason = await closed_with(ws)
    assert code == 4401
    assert reason.startswith("Sign in")


async def test_anonymous_may_follow_a_public_feed():
    owner = await in_db(UserFactory.create)(username="public")
    async with connected() as ws:
        op = await follow(ws, FEED, {"userId": str(owner.pk)}, user_id=owner.pk)
        await in_db(make_events)(owner, 1, first_source_id=3)
        [edge] = await receive_edges(ws, op, 1)
    assert edge["node"]["eventType"] == "ACHIEVEMENT_UNLOCKED"


async def test_staff_only_progress_is_forbidden_to_a_signed_in_player():
    user = await in_db(UserFactory.create)(username="curious")
    _, token = await in_db(issue_api_token)(user=user)
    async with connected({"Authorization": f"Bearer {token}"}) as ws:
        op = await subscribe(ws, 'subscription { ledgerJobProgress(id: "1") { status } }')
        error = await receive_error(ws, op)
    assert error["extensions"]["code"] == "FORBIDDEN"


# --- Origin ----------------------------------------------------------------------------------


async def handshake(headers: list[tuple[bytes, bytes]]) -> bool:
    ws = communicator(headers=headers)
    connected_, _ = await ws.connect(timeout=5)
    await ws.disconnect()
    return connected_


async def test_native_clients_without_origin_connect():
    assert await handshake([(b"host", b"api.example.test")])


async def test_a_page_of_the_same_origin_connects():
    assert await handshake(
        [(b"host", b"api.example.test"), (b"origin", b"https://api.example.test")]
    )


async def test_a_page_of_another_origin_is_refused(settings):
    assert not await handshake(
        [(b"host", b"api.example.test"), (b"origin", b"https://evil.example.test")]
    )
