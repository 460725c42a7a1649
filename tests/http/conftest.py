"""Helpers for the HTTP path: the project's ASGI application driven in-process (what uvicorn
hands it), and real uvicorn workers on the test's PostgreSQL database."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection

from tests.support import services
from tests.support.servers import start_uvicorn, stop


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    raw_headers: list[tuple[bytes, bytes]]
    """As the application sent them: order, case and repeats kept."""

    def json(self) -> Any:
        return json.loads(self.body)


async def call_asgi(
    path: str = "/graphql/",
    *,
    method: str = "POST",
    body: bytes = b"",
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    app: Any = None,
    scheme: str = "http",
    chunk: int | None = None,
) -> Reply:
    """One HTTP request through ``config.asgi.application`` (or ``app``), as uvicorn makes it;
    headers as a list may repeat, and ``chunk`` sends the body in messages of that size."""
    if app is None:
        from config.asgi import application as app
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    raw_headers = [(b"host", b"testserver")]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in pairs]
    raw_headers.append((b"content-length", str(len(body)).encode()))
    path_only, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path_only,
        "raw_path": path_only.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": raw_headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 443 if scheme == "https" else 80),
    }
    size = chunk or max(len(body), 1)
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    sent: list[dict[str, Any]] = []
    finished = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if parts:
            part = parts.pop(0)
            return {"type": "http.request", "body": part, "more_body": bool(parts)}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            finished.set()

    await asyncio.wait_for(app(scope, receive, send), timeout=30)
    start = next(m for m in sent if m["type"] == "http.response.start")
    return Reply(
        status=start["status"],
        headers={k.decode().lower(): v.decode() for k, v in start["headers"]},
        body=b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"),
        raw_headers=list(start["headers"]),
    )


def post_graphql(
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """POST a query through the ASGI application, from sync test code."""
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    return asyncio.run(call_asgi(body=body, headers=sent))


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]


@pytest.fixture
def live_server_env() -> dict[str, str]:
    """The environment of a production-like worker on the test's PostgreSQL database."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "DJANGO_TEST_DB_NAME" and not k.startswith(("DJANGO_", "REDIS_", "PYTEST_"))
    }
    env.update(
        DATABASE_URL=services.postgres_url(connection.settings_dict),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    return env


@pytest.fixture
def start_worker(live_server_env: dict[str, str]) -> Iterator[Callable[..., LiveServer]]:
    """Start uvicorn on the project (the Procfile's flags) with extra environment; stopped at
    teardown, also when the test fails."""
    started: list[subprocess.Popen[bytes]] = []

    def start(**extra: str) -> LiveServer:
        process, port = start_uvicorn({**live_server_env, **extra})
        started.append(process)
        return LiveServer(url=f"http://127.0.0.1:{port}", process=process)

    yield start
    stop(started)
