"""The API's own handler (config.handlers): same checks as Django's full stack, no thread hops
in its middleware, one lent thread per request, and every other path on Django's full list."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable

import pytest
from asgiref.sync import sync_to_async
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import request_finished, request_started
from django.db import connection, connections
from django.test import Client

from config.handlers import ApiHandler, ApiThread, PagesHandler, RequestThread, RequestThreads
from graphql_api.auth.tokens import issue_api_token
from tests.factories import UserFactory
from tests.http.conftest import call_asgi, post_graphql

pytestmark = pytest.mark.django_db(transaction=True)

ME = "query Me { me { databaseId username } }"


def test_a_bearer_request_gets_the_security_headers_and_a_request_id():
    user = UserFactory.create(username="ann")
    _, token = issue_api_token(user=user)
    reply = post_graphql(ME, token=token)
    assert reply.status == 200
    assert reply.json() == {"data": {"me": {"databaseId": user.pk, "username": "ann"}}}
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["x-frame-options"] == "DENY"
    assert reply.headers["referrer-policy"] == "same-origin"
    assert len(reply.headers["x-request-id"]) == 32
    assert reply.headers["content-length"] == str(len(reply.body))
    assert post_graphql(ME, token=token + "x").status == 401


def test_a_session_post_needs_the_csrf_token_on_the_api_path_too():
    user = UserFactory.create(username="bea")
    browser = Client()
    browser.force_login(user)
    session = browser.cookies["sessionid"].value
    csrf = "a" * 32
    cookies = f"sessionid={session}; csrftoken={csrf}"
    forged = post_graphql(ME, headers={"Cookie": cookies})
    assert forged.status == 403
    allowed = post_graphql(ME, headers={"Cookie": cookies, "X-CSRFToken": csrf})
    assert allowed.status == 200, allowed.body
    assert allowed.json()["data"]["me"]["username"] == "bea"
    assert "Cookie" in allowed.headers["vary"]  # the session was read: caches must vary on it
    anonymous = post_graphql(ME)
    assert anonymous.json() == {"data": {"me": None}}


def test_graphiql_sets_the_csrf_cookie_it_sends_back(settings):
    settings.DEBUG = True
    reply = asyncio.run(call_asgi(method="GET", headers={"Accept": "text/html"}))
    assert reply.status == 200
    assert b"graphiql" in reply.body.lower()
    assert "csrftoken=" in reply.headers["set-cookie"]


def test_other_paths_keep_django_s_full_middleware():
    reply = asyncio.run(call_asgi("/graphql", method="GET"))  # CommonMiddleware: APPEND_SLASH
    assert reply.status == 301
    assert reply.headers["location"] == "/graphql/"
    page = asyncio.run(call_asgi("/u/somebody/", method="GET"))
    assert page.status == 200
    assert "csrftoken=" in page.headers["set-cookie"]


def test_the_api_handler_refuses_middleware_that_would_hop_to_a_thread(settings):
    settings.API_MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
    with pytest.raises(ImproperlyConfigured, match="async-capable"):
        ApiHandler()
    settings.API_MIDDLEWARE = ["django.middleware.csrf.CsrfViewMiddleware"]  # has process_view
    with pytest.raises(ImproperlyConfigured):
        ApiHandler()


def test_a_request_s_sync_calls_share_one_thread_that_outlives_the_request():
    handler = PagesHandler()
    seen: list[list[int]] = []

    async def handle(scope: object, receive: object, send: object) -> None:
        idents = [await sync_to_async(threading.get_ident)() for _ in range(3)]
        seen.append(idents)

    handler.handle = handle  # type: ignore[method-assign]

    async def requests() -> None:
        for _ in range(3):
            await handler({"type": "http"}, None, None)  # type: ignore[arg-type]
        await asyncio.gather(*(handler({"type": "http"}, None, None) for _ in range(2)))  # type: ignore[arg-type]

    asyncio.run(requests())
    assert all(len(set(calls)) == 1 for calls in seen), "one thread per request"
    assert seen[0][0] == seen[1][0] == seen[2][0], "sequential requests reuse the thread"
    assert seen[3][0] != seen[4][0], "concurrent requests run on threads of their own"
    assert threading.main_thread().ident not in {calls[0] for calls in seen}


def test_lent_threads_beyond_the_kept_number_are_shut_down():
    threads = RequestThreads(keep=1)
    first, second = threads.lend(), threads.lend()
    assert first is not second
    threads.take_back(first)
    threads.take_back(second)
    assert threads.lend() is first
    with pytest.raises(RuntimeError):
        second.submit(print)


def test_the_request_log_names_the_operation(caplog):
    user = UserFactory.create()
    _, token = issue_api_token(user=user)
    with caplog.at_level("INFO", logger="deltacrown.request"):
        assert post_graphql(ME, token=token).status == 200
    [line] = [r for r in caplog.records if r.name == "deltacrown.request"]
    fields = line.__dict__
    assert (fields["method"], fields["path"], fields["status"]) == ("POST", "/graphql/", 200)
    assert isinstance(fields["duration_ms"], float)
    assert fields["duration_ms"] > 0


def _on_thread(thread: RequestThread, call: Callable[[], object]) -> object:
    return thread.submit(call).result(timeout=10)


def _in_memory_sqlite() -> bool:
    """Django never closes an in-memory SQLite database: its connection always stays."""
    return connection.vendor == "sqlite" and bool(connection.is_in_memory_db())  # type: ignore[attr-defined]


def test_an_api_thread_hands_back_the_connection_a_call_leaves_open(monkeypatch):
    """With CONN_MAX_AGE 0 (what the pool sets) a call's connection is closed (a pooled one goes
    back to the pool) when the call returns; a persistent one stays, and the thread says so."""
    if _in_memory_sqlite():
        pytest.skip("an in-memory SQLite database is never closed")
    thread = ApiThread()
    try:
        monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
        assert _on_thread(thread, lambda: connection.ensure_connection()) is None
        assert _on_thread(thread, lambda: connection.connection is None) is True
        assert thread.holds_connection is False
        monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 600)
        _on_thread(thread, lambda: connection.ensure_connection())
        assert thread.holds_connection is True
        assert _on_thread(thread, lambda: connection.connection is not None) is True
    finally:
        _on_thread(thread, lambda: connection.close())
        thread.shutdown()


@pytest.mark.parametrize("max_age", [0, 600])
def test_request_signals_run_in_the_loop_only_when_the_request_thread_holds_no_connection(
    monkeypatch, max_age
):
    """Django closes a request's connections in ``request_finished`` on the request's thread;
    the API's handler skips that trip when the thread already handed them back."""
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", max_age)
    user = UserFactory.create(username="cid")
    _, token = issue_api_token(user=user)  # not cached yet: the lookup reads the database
    handler = ApiHandler()
    ran: dict[str, int] = {}

    def started(**_: object) -> None:
        ran["started"] = threading.get_ident()

    def finished(**_: object) -> None:
        ran["finished"] = threading.get_ident()
        ran["closed"] = int(
            all(c.connection is None for c in connections.all(initialized_only=True))
        )

    request_started.connect(started)
    request_finished.connect(finished)
    try:
        for turn in range(2):  # the second request starts on the thread the first left
            reply = asyncio.run(
                call_asgi(
                    body=json.dumps({"query": ME}).encode(),
                    headers={
                        "Content-Type": "application/json",
                        "Authorization": f"Bearer {token}",
                    },
                    app=handler,
                )
            )
            assert reply.json() == {"data": {"me": {"databaseId": user.pk, "username": "cid"}}}
            [thread] = handler.threads._idle
            holds = bool(_on_thread(thread, lambda: connection.connection is not None))
            loop = threading.get_ident()
            if max_age == 0 and not _in_memory_sqlite():
                assert not holds
                assert ran["started"] == ran["finished"] == loop, "no trip to the thread"
            else:
                assert holds
                assert ran["finished"] != loop
                assert ran["started"] == loop if turn == 0 else ran["started"] != loop
                assert ran["closed"] == 0  # within CONN_MAX_AGE, as Django keeps it
    finally:
        request_started.disconnect(started)
        request_finished.disconnect(finished)
        for thread in handler.threads._idle:
            _on_thread(thread, lambda: connection.close())
            thread.shutdown()
