"""shared_read: subscriptions woken by one commit share one read, and never a read that began
before they were notified (it could predate the commit they were told about)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from graphql_api.subscriptions.shared import _flights, heard_at, shared_read


class Reads:
    """A read that counts its calls and finishes when released."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()

    async def __call__(self) -> Any:
        self.calls += 1
        number = self.calls
        await self.release.wait()
        return ["row", number]


def test_callers_notified_before_a_read_began_share_it() -> None:
    async def scenario() -> None:
        read = Reads()
        since = time.monotonic()
        waiters = [
            asyncio.ensure_future(shared_read("k", since=since, read=read)) for _ in range(50)
        ]
        await asyncio.sleep(0)
        read.release.set()
        results = await asyncio.gather(*waiters)
        assert read.calls == 1
        assert results == [["row", 1]] * 50
        assert "k" not in _flights  # landed reads are forgotten: the next event reads again
        assert await shared_read("k", since=time.monotonic(), read=read) == ["row", 2]

    asyncio.run(scenario())


def test_a_caller_notified_after_a_read_began_reads_again() -> None:
    async def scenario() -> None:
        read = Reads()
        first = asyncio.ensure_future(shared_read("k", since=time.monotonic(), read=read))
        await asyncio.sleep(0)
        later = asyncio.ensure_future(shared_read("k", since=time.monotonic(), read=read))
        await asyncio.sleep(0)
        read.release.set()
        assert await first == ["row", 1]
        assert await later == ["row", 2]
        assert read.calls == 2

    asyncio.run(scenario())


def test_other_keys_read_apart_and_a_departed_caller_cancels_nothing() -> None:
    async def scenario() -> None:
        read = Reads()
        since = time.monotonic()
        leaving = asyncio.ensure_future(shared_read("a", since=since, read=read))
        staying = asyncio.ensure_future(shared_read("a", since=since, read=read))
        other = asyncio.ensure_future(shared_read("b", since=since, read=read))
        await asyncio.sleep(0)
        leaving.cancel()
        await asyncio.sleep(0)
        read.release.set()
        assert await staying == ["row", 1]
        assert await other == ["row", 2]
        assert leaving.cancelled()

    asyncio.run(scenario())


def test_a_message_is_dated_when_this_process_first_heard_it() -> None:
    message = {"type": "ledger.activity", "user_id": 7, "event_ids": [41, 42]}
    first = heard_at(dict(message))
    time.sleep(0.01)
    assert heard_at(dict(message)) == first  # every subscriber of the group: the same moment
    assert heard_at({**message, "event_ids": [43]}) > first  # a later announcement
    assert heard_at("not a message") > first
