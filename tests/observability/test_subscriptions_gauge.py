"""graphql_open_subscriptions counts subscriptions while they are served, not connections."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from graphql_api.auth.tokens import issue_api_token
from tests.factories import UserFactory
from tests.graphql_api.subscriptions.conftest import WAIT, connected, follow, in_db, receive_data
from tests.observability.exercise import value

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

STATS = "subscription Watch($userId: ID) { statsUpdated(userId: $userId) { achievementsCount } }"
OPEN = "graphql_open_subscriptions"


@pytest.fixture(autouse=True)
def _in_memory_layer(settings: Any) -> Iterator[None]:
    from asgiref.sync import SyncToAsync
    from channels.layers import channel_layers
    from django.db import connections

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=WAIT)


def bearer(user: Any) -> dict[str, str]:
    _, token = issue_api_token(user=user)
    return {"Authorization": f"Bearer {token}"}


async def settled(expected: float) -> float:
    """The gauge once it reaches ``expected`` (bounded: the server ends operations async)."""
    async with asyncio.timeout(WAIT):
        while value(OPEN) != expected:
            await asyncio.sleep(0.01)
    return value(OPEN)


async def test_open_subscriptions_rise_while_served_and_fall_on_complete_and_disconnect():
    player = await in_db(UserFactory.create)()
    before = value(OPEN)
    async with connected(await in_db(bearer)(player)) as ws:
        first = await follow(ws, STATS, {"userId": str(player.pk)}, user_id=player.pk)
        await receive_data(ws, first)
        second = await follow(ws, STATS, {"userId": str(player.pk)}, user_id=player.pk)
        await receive_data(ws, second)
        assert await settled(before + 2) == before + 2
        await ws.send_json_to({"id": first, "type": "complete"})
        assert await settled(before + 1) == before + 1
        # a subscription refused at validation never counts
        await ws.send_json_to(
            {"id": "bad", "type": "subscribe", "payload": {"query": "subscription { nope }"}}
        )
        message = await ws.receive_json_from(timeout=WAIT)
        assert message["type"] == "error"
        assert value(OPEN) == before + 1
    assert await settled(before) == before
