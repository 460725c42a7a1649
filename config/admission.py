"""Admission control for HTTP: at most ``HTTP_CONCURRENCY`` requests run at once per process.

Each running request holds at most one database connection (Django gives a request one thread
for its ORM calls), so with the concurrency at most the pool's size no request waits for a
connection inside the pool, blocking a thread. Requests beyond it wait here, in the event loop,
in arrival order; when ``HTTP_QUEUE`` are already waiting, or one has waited
``HTTP_QUEUE_SECONDS``, the request gets 503 with ``Retry-After`` at once: an overloaded
worker answers late or says "later", never fails inside.

Probes and the scrape are exempt: a busy worker is alive, and its metrics say how busy.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from prometheus_client import Counter

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

EXEMPT_PATHS = frozenset({"/healthz", "/metrics"})
RETRY_AFTER_SECONDS = 1

SHED = Counter(
    "http_requests_shed",
    "Requests answered 503 by admission control: reason=queue_full or waited_too_long.",
    ["reason"],
)

_BODY = json.dumps(
    {"errors": [{"message": "Server busy; retry.", "extensions": {"code": "SERVICE_UNAVAILABLE"}}]}
).encode()


class Admission:
    """ASGI middleware: a semaphore of ``concurrency`` slots and a bounded, timed wait for one."""

    def __init__(self, app: ASGIApp, *, concurrency: int, queue: int, queue_seconds: float) -> None:
        if concurrency < 1 or queue < 0 or queue_seconds <= 0:
            raise ValueError("concurrency >= 1, queue >= 0 and queue_seconds > 0 are required")
        self.app = app
        self.queue = queue
        self.queue_seconds = queue_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self.waiting = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        if self._slots.locked():
            if self.waiting >= self.queue:
                await _refuse(send, "queue_full")
                return
            self.waiting += 1
            try:
                await asyncio.wait_for(self._slots.acquire(), self.queue_seconds)
            except TimeoutError:
                await _refuse(send, "waited_too_long")
                return
            finally:
                self.waiting -= 1
        else:
            await self._slots.acquire()
        try:
            await self.app(scope, receive, send)
        finally:
            self._slots.release()


async def _refuse(send: Send, reason: str) -> None:
    SHED.labels(reason=reason).inc()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                (b"content-length", str(len(_BODY)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _BODY})
