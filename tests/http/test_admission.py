"""Admission control: at most ``concurrency`` requests run, the next ``queue`` wait their turn in
arrival order, and the rest (or one that waited too long) get 503 with Retry-After at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from config.admission import Admission
from tests.http.conftest import Reply, call_asgi


class SlowApp:
    """Answers 200 once released; records the order requests started in."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started: list[str] = []
        self.running = 0
        self.most_running = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.started.append(scope["path"])
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await self.release.wait()
        finally:
            self.running -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def test_requests_beyond_the_queue_get_503_with_retry_after_and_the_rest_succeed():
    async def scenario() -> tuple[list[Reply], SlowApp, Admission]:
        app = SlowApp()
        admission = Admission(app, concurrency=2, queue=3, queue_seconds=30)
        calls = [
            asyncio.ensure_future(call_asgi(f"/r{n}", app=admission, method="GET"))
            for n in range(8)
        ]
        await _settle()
        assert admission.waiting == 3
        refused = [c for c in calls if c.done()]
        assert len(refused) == 3
        app.release.set()
        return list(await asyncio.gather(*calls)), app, admission

    replies, app, admission = asyncio.run(scenario())
    assert [r.status for r in replies] == [200] * 5 + [503] * 3
    for reply in replies[5:]:
        assert reply.headers["retry-after"] == "1"
        assert reply.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert app.started == ["/r0", "/r1", "/r2", "/r3", "/r4"]  # waiting ones in arrival order
    assert app.most_running == 2
    assert admission.waiting == 0


def test_a_request_that_waits_too_long_gets_503():
    async def scenario() -> tuple[Reply, SlowApp]:
        app = SlowApp()
        admission = Admission(app, concurrency=1, queue=10, queue_seconds=0.2)
        first = asyncio.ensure_future(call_asgi("/slow", app=admission, method="GET"))
        await _settle()
        second = await call_asgi("/late", app=admission, method="GET")
        app.release.set()
        assert (await first).status == 200
        return second, app

    late, app = asyncio.run(scenario())
    assert late.status == 503
    assert late.headers["retry-after"] == "1"
    assert app.started == ["/slow"]


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
def test_probes_and_the_scrape_are_answered_even_when_full(path: str):
    async def scenario() -> list[str]:
        app = SlowApp()
        admission = Admission(app, concurrency=1, queue=0, queue_seconds=1)
        busy = asyncio.ensure_future(call_asgi("/busy", app=admission, method="GET"))
        await _settle()
        probe = asyncio.ensure_future(call_asgi(path, app=admission, method="GET"))
        await _settle()
        app.release.set()
        await asyncio.gather(busy, probe)
        return app.started

    assert asyncio.run(scenario()) == ["/busy", path]


def test_bounds_must_make_sense():
    with pytest.raises(ValueError, match="concurrency"):
        Admission(SlowApp(), concurrency=0, queue=1, queue_seconds=1)
