"""The bearer fast path (config.fast_path) answers byte for byte what the API's handler answers:
the same status, the same headers in the same order, the same body and the same log line, for
every kind of request it serves; everything else reaches the handler with its body intact."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.signals import request_finished, request_started
from django.test import Client

from config.asgi import api_application
from config.fast_path import BearerFastPath, parse
from graphql_api.auth import cache
from graphql_api.auth.tokens import issue_api_token, revoke_api_tokens, token_digest
from graphql_api.extensions import MAX_DEPTH
from graphql_api.replica import MARKER_COOKIE, write_marker
from graphql_api.schema import LedgerSchema
from tests.factories import UserFactory
from tests.http.conftest import call_asgi

pytestmark = pytest.mark.django_db(transaction=True)

REQUEST_ID = "fast-path-test-0001"


@dataclass
class Exchange:
    """What a client receives, headers as sent (order and case included), and the log line."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    log: list[tuple[str, Any]] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.body)


async def _exchange(
    app: Any,
    *,
    body: bytes,
    headers: list[tuple[str, str]],
    method: str = "POST",
    query_string: bytes = b"",
    scheme: str = "http",
    chunk: int | None = None,
) -> Exchange:
    reply = await call_asgi(
        f"/graphql/?{query_string.decode()}" if query_string else "/graphql/",
        method=method,
        body=body,
        headers=[("X-Request-ID", REQUEST_ID), *headers],
        app=app,
        scheme=scheme,
        chunk=chunk,
    )
    return Exchange(reply.status, reply.raw_headers, reply.body)


class Paths:
    """The handler alone and the fast path in front of another one, built after the test's
    settings; counts what the fast path served itself."""

    def __init__(self) -> None:
        self.handler = api_application(fast_path=False)
        fast = api_application(fast_path=True)
        assert isinstance(fast, BearerFastPath)
        self.fast = fast
        self.served = 0
        serve = fast.serve

        async def counted(*args: Any) -> None:
            self.served += 1
            await serve(*args)

        fast.serve = counted  # type: ignore[method-assign,assignment]

    def both(self, caplog: pytest.LogCaptureFixture, **request: Any) -> tuple[Exchange, Exchange]:
        replies = []
        for app in (self.handler, self.fast):
            caplog.clear()
            with caplog.at_level(logging.INFO, logger="deltacrown.request"):
                reply = asyncio.run(_exchange(app, **request))
            reply.log = [
                (r.getMessage(), r.__dict__.get("status"))
                for r in caplog.records
                if r.name == "deltacrown.request"
            ]
            replies.append(reply)
        return replies[0], replies[1]


@pytest.fixture
def viewer() -> Iterator[tuple[Any, str]]:
    """A player whose token this process knows (the fast path serves only those)."""
    user = UserFactory.create(username="fay")
    _, token = issue_api_token(user=user)
    cache.tokens.put(token_digest(token), user, generation=cache.tokens.generation())
    yield user, token
    cache.tokens.clear()


def _request(
    token: str, payload: object, *, accept: str | None = None, **extra: Any
) -> dict[str, Any]:
    headers = [("Content-Type", "application/json"), ("Authorization", f"Bearer {token}")]
    if accept is not None:
        headers.append(("Accept", accept))
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return {"body": body, "headers": headers, **extra}


GRAPHQL_RESPONSE = "application/graphql-response+json"
DEEP = "{ me " + "{ profile " * (MAX_DEPTH + 2) + "{ displayName }" + " }" * (MAX_DEPTH + 2) + " }"

SERVED = {
    "me": ({"query": "query Me { me { databaseId username } }"}, None),
    "stats with variables": (
        {
            "query": "query S($id: ID) { stats(userId: $id) { matchesPlayed matchesWon } }",
            "variables": {"id": "{user_pk}"},
            "operationName": "S",
        },
        None,
    ),
    "feed page": (
        {"query": "{ activityFeed(first: 5) { edges { cursor } pageInfo { hasNextPage } } }"},
        "*/*",
    ),
    "field error": ({"query": '{ stats(userId: "999999") { matchesWon } }'}, None),
    "field error, spec media type": (
        {"query": '{ stats(userId: "999999") { matchesWon } }'},
        GRAPHQL_RESPONSE,
    ),
    "validation error": ({"query": "{ nope }"}, None),
    "validation error, spec media type": ({"query": "{ nope }"}, GRAPHQL_RESPONSE),
    "parse error, spec media type": ({"query": "query {"}, f"{GRAPHQL_RESPONSE}, */*;q=0.5"),
    "success, spec media type": ({"query": "{ me { username } }"}, GRAPHQL_RESPONSE),
    "media type refused with q=0": ({"query": "{ nope }"}, f"{GRAPHQL_RESPONSE};q=0"),
    "named operation chosen": (
        {
            "query": "query A { me { username } } query B { me { databaseId } }",
            "operationName": "B",
        },
        "application/json",
    ),
    "operation name missing": ({"query": "query A { me { id } } query B { me { id } }"}, None),
    "unknown operation name": ({"query": "query A { me { id } }", "operationName": "Z"}, None),
    "subscription over POST": ({"query": "subscription { activityAdded { id } }"}, None),
    "too deep": ({"query": DEEP}, None),
    "NUL byte": ({"query": '{ user(username: "a\\u0000") { username } }'}, None),
    "bad variable": (
        {
            "query": "query S($id: ID) { stats(userId: $id) { matchesWon } }",
            "variables": {"id": []},
        },
        None,
    ),
    "extensions": ({"query": "{ me { username } }", "extensions": {"persistedQuery": 1}}, None),
    "nulls": (
        {"query": "{ me { username } }", "variables": None, "operationName": None},
        None,
    ),
}


@pytest.mark.parametrize("case", SERVED)
def test_the_fast_path_answers_what_the_handler_answers(case, viewer, caplog):
    user, token = viewer
    payload, accept = SERVED[case]
    body = json.dumps(payload).replace("{user_pk}", str(user.pk)).encode()
    paths = Paths()
    handler, fast = paths.both(caplog, **_request(token, body, accept=accept))
    assert paths.served == 1, "the fast path served it itself"
    assert (fast.status, fast.headers, fast.body) == (handler.status, handler.headers, handler.body)
    assert fast.log == handler.log
    assert len(fast.log) == 1
    assert (b"X-Request-ID", REQUEST_ID.encode()) in fast.headers


def test_a_mutation_s_cookie_and_header_for_read_your_writes(viewer, caplog, monkeypatch):
    """What resolvers set on the sub-response (here ReadRouting's marker, decision 0019)."""
    _, token = viewer
    other = UserFactory.create(username="gus")
    monkeypatch.setattr("graphql_api.replica.replica_configured", lambda: True)
    monkeypatch.setattr("graphql_api.replica.write_marker", lambda viewer: f"marker-{viewer.pk}")
    mutation = "mutation F($id: ID!) { followPlayer(input: {userId: $id}) { username } }"
    paths = Paths()
    handler, fast = paths.both(
        caplog, **_request(token, {"query": mutation, "variables": {"id": str(other.pk)}})
    )
    assert paths.served == 1
    assert fast.json() == {"data": {"followPlayer": {"username": "gus"}}}
    assert any(name == b"Set-Cookie" for name, _ in fast.headers)
    assert (fast.status, fast.headers, fast.body) == (handler.status, handler.headers, handler.body)


@pytest.mark.parametrize("cookies", ["csrftoken", "session of another user", "marker", "junk"])
def test_a_bearer_request_with_a_browser_s_cookies(viewer, caplog, monkeypatch, cookies):
    """The token decides who is asking; the session and CSRF hooks run on both paths."""
    user, token = viewer
    monkeypatch.setattr("graphql_api.replica.replica_configured", lambda: True)
    browser = Client()
    browser.force_login(UserFactory.create(username="hal"))
    cookie = {
        "csrftoken": "csrftoken=" + "a" * 32,
        "session of another user": f"sessionid={browser.cookies['sessionid'].value}",
        "marker": f"{MARKER_COOKIE}={write_marker(user)}",
        "junk": "=; a==b; \x00",
    }[cookies]
    request = _request(token, {"query": "{ me { username } }"})
    request["headers"].append(("Cookie", cookie))
    paths = Paths()
    handler, fast = paths.both(caplog, **request)
    assert paths.served == 1
    assert fast.json() == {"data": {"me": {"username": "fay"}}}
    assert (fast.status, fast.headers, fast.body) == (handler.status, handler.headers, handler.body)


def test_an_exception_is_django_s_500_on_both_paths(viewer, caplog, monkeypatch):
    _, token = viewer

    async def broken(self: LedgerSchema, *args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(LedgerSchema, "execute", broken)
    paths = Paths()
    handler, fast = paths.both(caplog, **_request(token, {"query": "{ me { username } }"}))
    assert paths.served == 1
    assert fast.status == 500
    assert (fast.status, fast.headers, fast.body) == (handler.status, handler.headers, handler.body)


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_https_redirect_and_hsts_as_the_security_middleware_says(viewer, caplog, settings, scheme):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    _, token = viewer
    paths = Paths()
    handler, fast = paths.both(
        caplog, scheme=scheme, **_request(token, {"query": "{ me { username } }"})
    )
    assert paths.served == 1
    headers = dict(fast.headers)
    if scheme == "http":
        assert fast.status == 301
        assert headers[b"Location"].startswith(b"https://")
    else:
        assert fast.status == 200
        assert b"max-age=3600" in headers[b"Strict-Transport-Security"]
    assert (fast.status, fast.headers, fast.body) == (handler.status, handler.headers, handler.body)


def _handed_over(token: str) -> dict[str, dict[str, Any]]:
    me = {"query": "{ me { username } }"}
    plain = [("Content-Type", "application/json")]
    bearer = [*plain, ("Authorization", f"Bearer {token}")]
    return {
        "no token": {"body": json.dumps(me).encode(), "headers": plain},
        "unknown token": _request(token + "x", me),
        "empty token": {
            "body": json.dumps(me).encode(),
            "headers": [*plain, ("Authorization", "Bearer ")],
        },
        "two Cookie headers": {
            "body": json.dumps(me).encode(),
            "headers": [*bearer, ("Cookie", "a=b"), ("Cookie", "c=d")],
        },
        "invalid JSON": _request(token, b"{"),
        "not UTF-8": _request(token, b'{"query": "\xff"}'),
        "a batch": _request(token, [me, me]),
        "another key": _request(token, {**me, "id": 1}),
        "empty query": _request(token, {"query": ""}),
        "query not a string": _request(token, {"query": 1}),
        "operationName not a string": _request(token, {**me, "operationName": 1}),
        "variables not an object": _request(token, {**me, "variables": [1]}),
        "a query string": _request(token, me, query_string=b"x=1"),
        "a stream asked for": _request(token, me, accept="text/event-stream"),
        "text/plain": {
            "body": json.dumps(me).encode(),
            "headers": [("Content-Type", "text/plain"), *bearer[1:]],
        },
        "GET": {
            "body": b"",
            "headers": bearer[1:],
            "method": "GET",
            "query_string": b"query=%7Bme%7Bid%7D%7D",
        },
        "two Authorization headers": {
            "body": json.dumps(me).encode(),
            "headers": [*bearer, bearer[1]],
        },
        "in chunks, over the limit": {
            **_request(token, {"query": "{ me { username } }" + " " * 400}),
            "chunk": 64,
        },
    }


def test_everything_else_reaches_the_handler_with_its_body(viewer, caplog, settings):
    _, token = viewer
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 300
    for case, request in _handed_over(token).items():
        paths = Paths()
        handler, fast = paths.both(caplog, **request)
        assert paths.served == 0, case
        assert (fast.status, fast.headers, fast.body) == (
            handler.status,
            handler.headers,
            handler.body,
        ), case
        assert fast.log == handler.log, case


def test_a_revoked_token_is_refused_at_once(viewer, caplog):
    user, token = viewer
    paths = Paths()
    me = _request(token, {"query": "{ me { username } }"})
    assert paths.both(caplog, **me)[1].status == 200
    revoke_api_tokens(user=user)
    handler, fast = paths.both(caplog, **me)
    assert fast.status == handler.status == 401


def test_each_request_sends_django_s_request_signals_once(viewer):
    _, token = viewer
    sent: list[str] = []

    def started(**_: object) -> None:
        sent.append("started")

    def finished(**_: object) -> None:
        sent.append("finished")

    request_started.connect(started)
    request_finished.connect(finished)
    try:
        paths = Paths()
        asyncio.run(_exchange(paths.fast, **_request(token, {"query": "{ me { username } }"})))
    finally:
        request_started.disconnect(started)
        request_finished.disconnect(finished)
    assert paths.served == 1
    assert sent == ["started", "finished"]


def test_debug_takes_the_handler_path(viewer, settings):
    settings.DEBUG = True
    _, token = viewer
    paths = Paths()
    reply = asyncio.run(_exchange(paths.fast, **_request(token, {"query": "{ me { username } }"})))
    assert reply.status == 200
    assert paths.served == 0


@pytest.mark.parametrize(
    "body",
    [b"[]", b"null", b'"q"', b'{"query": "{ a }", "variables": 1}', b'{"query": null}'],
)
def test_parse_leaves_unusual_bodies_to_the_handler(body):
    assert parse(body) is None
    assert parse(b'{"query": "{ a }"}') is not None
