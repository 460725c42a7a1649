"""Running GraphQL the two ways a client meets it: the schema in-process, and HTTP to uvicorn."""

from __future__ import annotations

import http.client
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.servers import start_uvicorn, stop

ROOT = Path(__file__).resolve().parent.parent
LOG = open(os.devnull, "wb")  # noqa: SIM115 - the servers' request logs are not figures


async def execute(query: str, variables: dict[str, Any], *, viewer: Any) -> dict[str, Any]:
    """One operation through the schema, with the context the HTTP view would build."""
    from django.test import RequestFactory

    from graphql_api.context import ApiContext
    from graphql_api.schema import schema

    request = RequestFactory().post("/graphql/")
    request.user = viewer
    result = await schema.execute(
        query,
        variable_values=variables,
        context_value=ApiContext(request=request, response=None, viewer=viewer),  # type: ignore[arg-type]
    )
    if result.errors:
        raise RuntimeError(f"GraphQL errors: {result.errors}")
    assert result.data is not None
    return result.data


def server_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE="bench.settings", PYTHONPATH=str(ROOT), **extra)
    return env


@contextmanager
def uvicorn_process(app: str = "config.asgi:application", **env: str) -> Iterator[tuple[int, int]]:
    """One uvicorn worker as the Procfile starts a web process (``tests.support.servers``) on a
    free port; yields its port and pid, and stops it afterwards."""
    process, port = start_uvicorn(server_env(**env), app=app, output=LOG)
    try:
        yield port, process.pid
    finally:
        stop([process])


@contextmanager
def uvicorn_server(**env: str) -> Iterator[int]:
    """The project's worker (``uvicorn_process``); yields the port."""
    with uvicorn_process(**env) as (port, _):
        yield port


class HttpClient:
    """A kept-alive HTTP/1.1 connection posting GraphQL JSON (as an SPA's fetch would)."""

    def __init__(self, port: int, *, token: str | None = None) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Content-Type": "application/json", "Host": "127.0.0.1"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def post(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables})
        self.conn.request("POST", "/graphql/", body=body, headers=self.headers)
        response = self.conn.getresponse()
        payload = json.loads(response.read())
        if response.status != 200 or payload.get("errors"):
            raise RuntimeError(f"HTTP {response.status}: {payload}")
        return payload["data"]

    def close(self) -> None:
        self.conn.close()


Variant = Any
"""An async callable taking no argument and returning the seconds one call took."""


def race(variants: dict[str, Variant], *, samples: int, warmup: int = 5) -> dict[str, list[float]]:
    """Call every variant once per round, in turn, for ``warmup + samples`` rounds: a burst of
    noise hits every variant alike. Returns the measured rounds in milliseconds."""
    from asgiref.sync import async_to_sync

    measured: dict[str, list[float]] = {name: [] for name in variants}

    async def rounds() -> None:
        for round_no in range(warmup + samples):
            for name, variant in variants.items():
                seconds = await variant()
                if round_no >= warmup:
                    measured[name].append(seconds * 1000)

    async_to_sync(rounds)()
    return measured


def in_thread(fn: Any) -> Variant:
    """A sync variant (Django ORM code) run on Django's thread; it times itself, so the hop to
    the thread is not counted against it."""
    from asgiref.sync import sync_to_async

    def timed_call() -> float:
        started = time.perf_counter()
        fn()
        return time.perf_counter() - started

    return sync_to_async(timed_call)


def direct(fn: Any) -> Variant:
    """A sync variant that touches no Django ORM (raw psycopg, http.client), timed in place."""

    async def call() -> float:
        started = time.perf_counter()
        fn()
        return time.perf_counter() - started

    return call


def schema_variant(query: str, variables: dict[str, Any], *, viewer: Any) -> Variant:
    async def call() -> float:
        started = time.perf_counter()
        await execute(query, variables, viewer=viewer)
        return time.perf_counter() - started

    return call
