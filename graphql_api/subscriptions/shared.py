"""One read for many subscribers: subscriptions of one process woken by the same commit share
the query they would each run.

Measured in bench/ (fan-out): 1,000 subscriptions to one feed on one worker each re-read the
feed after every event, one after another on the ORM thread, so the last one heard of an event
seconds after its commit. A read is shared only with callers notified before it started, so it
cannot miss a row any of them was told about: it began after their commit was announced.
A message's moment is when this process first heard it (``heard_at``): every subscriber woken
by the same message may then share a read that began after any of them heard it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

_flights: dict[Hashable, tuple[float, asyncio.Future[Any]]] = {}
_heard: dict[Hashable, float] = {}
HEARD_KEPT = 4096
"""How many recent messages' first moments a process remembers (oldest forgotten first)."""


def heard_at(message: Any) -> float:
    """When this process first received ``message`` (the same announcement reaches every
    subscriber of its group): published after its commit, so any read begun since sees it."""
    now = time.monotonic()
    try:
        key: Hashable = (message["user_id"], tuple(message["event_ids"]))
    except (TypeError, KeyError):
        return now
    first = _heard.setdefault(key, now)
    if len(_heard) > HEARD_KEPT:
        del _heard[next(iter(_heard))]
    return first


async def shared_read(key: Hashable, *, since: float, read: Callable[[], Awaitable[T]]) -> T:
    """``read()``'s result, from a read of ``key`` already running if it started at or after
    ``since`` (a ``time.monotonic()`` taken when the caller was notified), else from a new one.

    The read runs as a task of its own: a subscriber that goes away does not cancel it for the
    others waiting on it.
    """
    loop = asyncio.get_running_loop()
    flight = _flights.get(key)
    if flight is None or flight[0] < since or flight[1].get_loop() is not loop:
        started = time.monotonic()
        task: asyncio.Future[Any] = asyncio.ensure_future(read())
        flight = (started, task)
        _flights[key] = flight

        def land(_: asyncio.Future[Any], mine: tuple[float, asyncio.Future[Any]] = flight) -> None:
            if _flights.get(key) is mine:
                del _flights[key]

        task.add_done_callback(land)
    result: T = await asyncio.shield(flight[1])
    return result


async def wake_ups(messages: AsyncIterator[Any]) -> AsyncIterator[float]:
    """When a subscription reads again, as the ``since`` of its ``shared_read``: now, then at
    each message (``heard_at``), until its listener ends."""
    yield time.monotonic()
    async for message in messages:
        yield heard_at(message)
