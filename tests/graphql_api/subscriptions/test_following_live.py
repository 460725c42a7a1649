"""End to end across processes: followingActivityAdded on a real uvicorn server with the Redis
channel layer, fed by events and follows committed by other processes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from gql import gql

from esports.social.models import Follow
from graphql_api.auth.tokens import issue_api_token
from graphql_api.social.publisher import following_group
from ledger.models import UserActivity
from tests.factories import UserFactory
from tests.graphql_api.subscriptions import test_live_servers as live
from tests.graphql_api.subscriptions.test_live_servers import (
    UNLOCK,
    WAIT,
    ids,
    nothing_more,
    wait_joined,
)
from tests.support.servers import server_environment, subscription_client

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]

REDIS_DB = 5
FOLLOWING = """subscription { followingActivityAdded { cursor node { id player { username } } } }"""

FOLLOW_BOB = """
from django.contrib.auth import get_user_model
from graphql_api.social.mutations import _follow
U = get_user_model()
_follow(follower_id=U.objects.get(username="ann").pk,
        followed_id=U.objects.get(username="bob").pk, follow=True)
"""

UNLOCK_BOB = UNLOCK.replace('username="alice"', 'username="bob"')


start_server = live.start_server
record = live.record


@pytest.fixture
def live_env() -> Iterator[dict[str, str]]:
    """As test_live_servers' own, on this helper's Redis db; its keys removed afterwards."""
    env = server_environment(redis_db=REDIS_DB, prefix="dcfollow")
    yield env
    import redis as redis_client

    client = redis_client.Redis.from_url(env["REDIS_URL"], socket_timeout=5)
    for key in client.scan_iter(f"{env['CHANNEL_LAYER_PREFIX']}*"):
        client.delete(key)


async def take(stream: Any, count: int) -> list[dict[str, Any]]:
    edges = []
    async with asyncio.timeout(WAIT):
        for _ in range(count):
            edges.append((await anext(stream))["followingActivityAdded"])
    return edges


def newest(username: str) -> list[int]:
    rows = UserActivity.objects.filter(user__username=username).order_by("-timestamp", "-id")
    return list(rows.values_list("id", flat=True)[:1])


def test_events_of_followed_players_and_of_a_player_followed_elsewhere_arrive(
    start_server, record, live_env
):
    ann = UserFactory.create(username="ann")
    alice = UserFactory.create(username="alice")
    bob = UserFactory.create(username="bob")
    Follow.objects.create(follower=ann, followed=alice)
    _, token = issue_api_token(user=ann)
    url = start_server()

    async def scenario() -> tuple[list[dict], list[dict]]:
        async with subscription_client(url, token) as session:
            stream = session.subscribe(gql(FOLLOWING))
            first = asyncio.ensure_future(take(stream, 1))
            await wait_joined(live_env, alice.pk)
            await wait_joined(live_env, 0, group=following_group(ann.pk))
            await asyncio.to_thread(record, UNLOCK.format(codes=["first-blood"]))
            from_alice = await first
            await asyncio.to_thread(record, FOLLOW_BOB)  # another process follows bob
            await wait_joined(live_env, bob.pk)
            later = asyncio.ensure_future(take(stream, 1))
            await asyncio.to_thread(record, UNLOCK_BOB.format(codes=["ace"]))
            from_bob = await later
            assert await nothing_more(stream)
        return from_alice, from_bob

    from_alice, from_bob = asyncio.run(scenario())
    assert ids(from_alice) == newest("alice")
    assert ids(from_bob) == newest("bob")
    assert [e["node"]["player"]["username"] for e in (*from_alice, *from_bob)] == ["alice", "bob"]
