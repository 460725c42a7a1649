"""Helpers for subscription tests: a communicator on the real ASGI app, bounded waits."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from strawberry.channels.testing import GraphQLWebsocketCommunicator
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from config.asgi import application
from tests.graphql_api.conftest import db_id

WAIT = 5.0
"""Seconds any single wait may take before the test fails (never hangs CI)."""

FEED = """subscription($userId: ID, $after: String) {
  activityAdded(userId: $userId, after: $after) { cursor node { id eventType amount } } }"""


def communicator(
    *, headers: list[tuple[bytes, bytes]] | None = None
) -> GraphQLWebsocketCommunicator:
    return GraphQLWebsocketCommunicator(application, path="/graphql/", headers=headers or [])


ACK_SECONDS = 15.0


def cookie_of(client: Client) -> list[tuple[bytes, bytes]]:
    """The WebSocket handshake's headers of a browser with ``client``'s session."""
    return [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]


@asynccontextmanager
async def connected(
    params: dict[str, Any] | None = None, *, headers: list[tuple[bytes, bytes]] | None = None
) -> AsyncIterator[GraphQLWebsocketCommunicator]:
    """An acknowledged graphql-transport-ws connection (connection_init with ``params``)."""
    ws = communicator(headers=headers)
    # By hand rather than gql_init(), which gives the acknowledgement one second: a loaded
    # machine (CI running beside other suites) can take longer without anything being wrong.
    assert await ws.connect(timeout=ACK_SECONDS) == (True, GRAPHQL_TRANSPORT_WS_PROTOCOL)
    await ws.send_json_to({"type": "connection_init", "payload": params or {}})
    assert await ws.receive_json_from(timeout=ACK_SECONDS) == {"type": "connection_ack"}
    try:
        yield ws
    finally:
        await ws.disconnect()


async def subscribe(
    ws: GraphQLWebsocketCommunicator, query: str, variables: dict[str, Any] | None = None
) -> str:
    op = uuid.uuid4().hex
    await ws.send_json_to(
        {"id": op, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}}
    )
    return op


async def receive(ws: GraphQLWebsocketCommunicator) -> dict[str, Any]:
    """The next protocol message, within WAIT seconds."""
    return await ws.receive_json_from(timeout=WAIT)


async def receive_data(ws: GraphQLWebsocketCommunicator, op: str) -> dict[str, Any]:
    message = await receive(ws)
    assert message["id"] == op, message
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    return message["payload"]["data"]


async def receive_edges(ws: GraphQLWebsocketCommunicator, op: str, count: int) -> list[dict]:
    return [(await receive_data(ws, op))["activityAdded"] for _ in range(count)]


async def receive_error(ws: GraphQLWebsocketCommunicator, op: str) -> dict[str, Any]:
    """The first error of an operation that ended with one ("next" with errors, then complete)."""
    message = await receive(ws)
    assert message["id"] == op, message
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    return errors[0]


async def closed_with(ws: GraphQLWebsocketCommunicator) -> tuple[int, str]:
    output = await ws.receive_output(timeout=WAIT)
    assert output["type"] == "websocket.close", output
    return output["code"], output.get("reason", "")


async def quiet(ws: GraphQLWebsocketCommunicator, seconds: float = 0.3) -> bool:
    """Nothing more arrives within ``seconds`` (a bounded check that a message was dropped)."""
    return await ws.receive_nothing(timeout=seconds)


def ids(edges: list[dict[str, Any]]) -> list[int]:
    return [db_id(edge["node"]["id"]) for edge in edges]


def in_db(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run ORM code from an async test on Django's thread (commits publish from there)."""
    return sync_to_async(function)


def as_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


@pytest.fixture(autouse=True)
def _in_memory_layer(settings: Any) -> Iterator[None]:
    """Protocol tests use the in-process layer whatever the environment says; afterwards the
    ORM thread's connection is closed so the test database can be dropped."""
    from asgiref.sync import SyncToAsync
    from channels.layers import channel_layers
    from django.db import connections

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=WAIT)


async def joined(group: str, members: int = 1) -> None:
    """Wait (bounded) until ``group`` has ``members`` subscribers on the in-memory layer."""
    import asyncio

    from channels.layers import get_channel_layer

    layer: Any = get_channel_layer()
    async with asyncio.timeout(WAIT):
        while len(layer.groups.get(group, {})) < members:
            await asyncio.sleep(0.01)


async def follow(
    ws: GraphQLWebsocketCommunicator,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    user_id: int,
) -> str:
    """Subscribe and wait until the subscription has joined ``user_id``'s group."""
    from graphql_api.subscriptions.groups import user_group

    op = await subscribe(ws, query, variables)
    await joined(user_group(user_id))
    return op
