"""Group sends from synchronous code: commit hooks in requests, Celery jobs, commands.

``async_to_sync`` outside an ASGI server starts an event loop per call, and channels-redis keeps
its connections per loop, so every commit of a job or a backfill batch opened (and closed) new
Redis connections: ~3 ms a commit on a local Redis, more across a network. Sends to a Redis layer
therefore run on one event loop per process, in a daemon thread, whose connections last. The
in-memory layer (the embedded default) is the exception: its queues belong to the ASGI server's
loop, which ``async_to_sync`` reaches from a request's thread.

A send waits for the layer (at most ``SEND_TIMEOUT``) so a command's last batch is announced
before it exits, and a failure is logged, never raised: the events are committed, and clients
resync from their cursor (channel layers deliver at most once anyway).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger("graphql_api.subscriptions")

SEND_TIMEOUT = 5.0
"""Seconds a commit hook waits for the layer before it logs and goes on."""

GroupMessage = tuple[str, Mapping[str, Any]]


def send_to_groups(messages: Sequence[GroupMessage]) -> None:
    """Send each (group, message); log what could not be sent."""
    layer = get_channel_layer()
    if layer is None or not messages:
        return
    if isinstance(layer, InMemoryChannelLayer):
        # Only its own process can listen: skip the hop to the loop when no group has members.
        # Safe: a subscription joins its group before it reads the committed rows it catches up.
        listened = [(group, message) for group, message in messages if layer.groups.get(group)]
        if listened:
            async_to_sync(_send_all)(layer, listened)
        return
    future = asyncio.run_coroutine_threadsafe(_send_all(layer, messages), _sender.loop())
    try:
        future.result(timeout=SEND_TIMEOUT)
    except FutureTimeout:
        future.cancel()
        logger.warning(
            "channel layer took over %ss; %d messages not sent", SEND_TIMEOUT, len(messages)
        )


async def _send_all(layer: Any, messages: Sequence[GroupMessage]) -> None:
    """All groups at once (each gets one message per call, so none can overtake another)."""
    outcomes = await asyncio.gather(
        *(layer.group_send(group, dict(message)) for group, message in messages),
        return_exceptions=True,
    )
    for (group, message), outcome in zip(messages, outcomes, strict=True):
        if isinstance(outcome, Exception):
            logger.error("could not send %s to %s", message.get("type"), group, exc_info=outcome)


class _SenderLoop:
    """One event loop per process, started on first use; a forked child (a Celery prefork
    worker) starts its own, since threads do not survive ``fork``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid: int | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                self._loop = asyncio.new_event_loop()
                self._pid = os.getpid()
                threading.Thread(
                    target=self._loop.run_forever, name="channel-layer-sender", daemon=True
                ).start()
            return self._loop


_sender = _SenderLoop()
