"""What our WebSocket handler and extensions add to strawberry's protocol, through its public
hooks: an UNAUTHENTICATED first result closes 4401; suggestions are hidden in production."""

from __future__ import annotations

from typing import Any

import pytest

from tests.graphql_api.subscriptions.conftest import (
    FEED,
    closed_with,
    connected,
    receive,
    receive_error,
    subscribe,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_an_operation_id_used_again_is_checked_again():
    """The first result of every operation counts, also under an id a finished one used."""
    async with connected() as ws:
        query = {"query": "{ me { id } }", "variables": {}}
        await ws.send_json_to({"id": "1", "type": "subscribe", "payload": query})
        answer, done = await receive(ws), await receive(ws)
        assert (answer["type"], answer["payload"], done["type"]) == (
            "next",
            {"data": {"me": None}},
            "complete",
        )
        follow = {"query": FEED, "variables": {}}
        await ws.send_json_to({"id": "1", "type": "subscribe", "payload": follow})
        code, reason = await closed_with(ws)
    assert code == 4401
    assert reason.startswith("Sign in")


@pytest.mark.parametrize("debug", [False, True])
async def test_subscriptions_name_no_fields_in_production(settings: Any, debug: bool):
    settings.DEBUG = debug
    async with connected() as ws:
        op = await subscribe(ws, "subscription { statsUpdatd { achievementsCount } }")
        error = await receive_error(ws, op)
    assert error["message"].startswith("Cannot query field 'statsUpdatd'")
    assert ("Did you mean" in error["message"]) is debug
