"""Group sends from synchronous code reuse one loop and its Redis connections, log failures,
and never hold a commit hook longer than SEND_TIMEOUT."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import channel_layers, get_channel_layer

from graphql_api.subscriptions import sending
from graphql_api.subscriptions.groups import user_group
from graphql_api.subscriptions.publisher import publish_recorded_activity
from ledger.drafts import RecordedEvent
from tests.support import services

REDIS_DB = 12


def events_for(*user_ids: int) -> tuple[RecordedEvent, ...]:
    return tuple(
        RecordedEvent(id=n, user_id=user_id, event_type="match_won", source_model="t", source_id=n)
        for n, user_id in enumerate(user_ids, start=1)
    )


@pytest.fixture
def redis_layer(settings: Any) -> Iterator[Any]:
    """The Redis channel layer, on a db and prefix of its own; its pools closed afterwards."""
    url = services.redis_url(REDIS_DB)
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [url], "prefix": f"test-{uuid.uuid4().hex[:8]}"},
        }
    }
    channel_layers.backends.clear()
    layer = get_channel_layer()
    yield layer
    close = asyncio.run_coroutine_threadsafe(layer.close_pools(), sending._sender.loop())
    close.result(timeout=5)
    channel_layers.backends.clear()


def connections_received() -> int:
    return int(redis.Redis(host="127.0.0.1", port=6379).info("stats")["total_connections_received"])


def test_commits_reuse_the_senders_redis_connections(redis_layer: Any) -> None:
    channel = async_to_sync(redis_layer.new_channel)()
    async_to_sync(redis_layer.group_add)(user_group(7), channel)
    publish_recorded_activity(None, events=events_for(7, 8))  # connects, one per group at once
    before = connections_received()
    for _ in range(30):
        publish_recorded_activity(None, events=events_for(7, 8))
    opened = connections_received() - before
    # One per commit before; a little slack for other clients of this Redis.
    assert opened <= 2, f"{opened} new Redis connections for 30 commits"
    message = async_to_sync(redis_layer.receive)(channel)
    assert message == {"type": "ledger.activity", "user_id": 7, "event_ids": [1]}


class RecordingLayer:
    """A layer that is not the in-memory one: sends go through the sender loop."""

    def __init__(self, *, fail_for: str | None = None, delay: float = 0.0) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.fail_for = fail_for
        self.delay = delay

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        if group == self.fail_for:
            raise ConnectionError("layer down")
        self.sent.append((group, message))


def test_a_failing_group_is_logged_and_the_others_are_sent(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    layer = RecordingLayer(fail_for=user_group(2))
    monkeypatch.setattr(sending, "get_channel_layer", lambda: layer)
    with caplog.at_level(logging.ERROR, logger="graphql_api.subscriptions"):
        publish_recorded_activity(None, events=events_for(1, 2, 3))
    assert [group for group, _ in layer.sent] == [user_group(1), user_group(3)]
    assert f"could not send ledger.activity to {user_group(2)}" in caplog.text


def test_a_slow_layer_holds_a_commit_hook_for_send_timeout_at_most(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    layer = RecordingLayer(delay=5.0)
    monkeypatch.setattr(sending, "get_channel_layer", lambda: layer)
    monkeypatch.setattr(sending, "SEND_TIMEOUT", 0.2)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="graphql_api.subscriptions"):
        publish_recorded_activity(None, events=events_for(1))
    assert time.monotonic() - started < 4.0
    assert "1 messages not sent" in caplog.text
    assert layer.sent == []


def test_a_forked_process_starts_its_own_sender_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    parents = sending._sender.loop()
    assert sending._sender.loop() is parents
    monkeypatch.setattr(sending.os, "getpid", lambda: -1)  # as a prefork child sees it
    childs = sending._sender.loop()
    assert childs is not parents
    assert asyncio.run_coroutine_threadsafe(asyncio.sleep(0, "ran"), childs).result(5) == "ran"


def test_the_in_memory_layer_is_not_reached_for_groups_nobody_listens_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without an ASGI server in this process (a command, the benchmark) nobody can listen:
    the commit hook does not start an event loop for nothing."""
    hops: list[Any] = []
    monkeypatch.setattr(sending, "async_to_sync", lambda function: hops.append(function))
    publish_recorded_activity(None, events=events_for(1, 2))
    assert hops == []

    layer: Any = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(2), channel)
    sent: list[Any] = []
    monkeypatch.setattr(
        sending, "async_to_sync", lambda function: lambda *args: sent.append(args[1])
    )
    publish_recorded_activity(None, events=events_for(1, 2))
    assert sent == [[(user_group(2), {"type": "ledger.activity", "user_id": 2, "event_ids": [2]})]]
