"""The API's fast path: one GraphQL operation POSTed with a bearer token this process already
knows, served without Django's handler and strawberry's Django view (docs/decisions/0032).

Why: that request is what SPA and mobile clients send on every screen, and after decisions 0025
to 0031 most of its CPU went to the machinery around the operation rather than to it: the
handler's two tasks per request (one only listens for a disconnect), the middleware chain's
wrappers, URL resolution, a view instance per request and strawberry's request adapters
(callgrind and ``wrk``: docs/benchmarks.md, "Fifth round").

What it keeps, by running the same code as the handler path: Django's request object and its
``request_started``/``request_finished`` signals, every hook of ``API_MIDDLEWARE`` in the
handler's order (the HTTPS redirect, HSTS and the other security headers, the lazy session, the
CSRF cookie, X-Frame-Options), the request id and log line, the token cache and its bounds, the
schema with all its extensions, the view's payload and response (``graphql_api.views``:
sub-response headers, status and cookies such as read-your-writes, the GraphQL-over-HTTP media
type), Django's 500 for an exception, and Django's ASGI encoding of the response.

Everything else goes through the handler with the body replayed (``_eligible``, ``parse``):
another method, a query string, no bearer token or one not in the cache (its first request
reads it there), a repeated header Django would join, a body that is not one JSON object of the
usual keys, one over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, an Accept header asking for a stream,
DEBUG. Cookies may come along (a browser client's CSRF cookie or read-your-writes marker): the
session and CSRF hooks run here as there, and a bearer request never uses the session.
One difference, stated: a client that leaves mid-request is not listened for, so its operation
runs to the end (the handler cancels the awaiting task; the thread's call ran to the end there
too). ``tests/http/test_fast_path.py`` holds both paths to the same bytes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.asgi import get_script_prefix
from django.core.handlers.exception import response_for_exception
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import set_script_prefix
from django.utils.module_loading import import_string
from strawberry.exceptions import MissingQueryError
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from config.admission import Receive, Scope, Send
from config.handlers import ApiHandler, ApiThread
from config.logging import begin_request, log_request, request_context_middleware
from config.middleware import InlineHooks
from graphql_api.auth import cache
from graphql_api.auth.request import BEARER
from graphql_api.auth.tokens import token_digest
from graphql_api.context import ApiContext
from graphql_api.views import (
    GRAPHQL_RESPONSE_JSON,
    SubResponse,
    accepts_graphql_response,
    graphql_http_response,
    graphql_payload,
    is_request_error,
)

OPERATION_KEYS = frozenset({"query", "variables", "operationName", "extensions"})
"""What a GraphQL-over-HTTP POST body holds; a body with anything else takes the handler path."""

PLAIN_ACCEPT = frozenset({"application/json", GRAPHQL_RESPONSE_JSON, "*/*", "application/*"})
"""Accept media ranges that ask for one JSON response (not strawberry's multipart or SSE
streams): a request whose Accept names anything else takes the handler path."""

POST_OPERATIONS = frozenset(OperationType.from_http("POST"))
_HEADERS = (b"authorization", b"content-type", b"accept", b"content-length", b"cookie")


@dataclass(frozen=True, slots=True)
class Operation:
    """One GraphQL operation as POSTed."""

    query: str
    variables: dict[str, object] | None
    operation_name: str | None
    extensions: dict[str, object] | None


def parse(body: bytes) -> Operation | None:
    """The body as one operation of the usual shape, or None: the handler path then answers
    it (a batch, invalid JSON, a missing query or a field of the wrong type all get its 400)."""
    try:
        data = json.loads(body)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both are
        return None
    if not isinstance(data, dict) or not data.keys() <= OPERATION_KEYS:
        return None
    query = data.get("query")
    variables = data.get("variables")
    operation_name = data.get("operationName")
    extensions = data.get("extensions")
    if (
        not isinstance(query, str)
        or not query
        or not isinstance(variables, dict | None)
        or not isinstance(operation_name, str | None)
        or not isinstance(extensions, dict | None)
    ):
        return None
    return Operation(query, variables, operation_name, extensions)


def _plain_accept(accept: bytes | None) -> bool:
    if accept is None:
        return True
    ranges = accept.decode("latin-1").split(",")
    return all(part.split(";", 1)[0].strip().lower() in PLAIN_ACCEPT for part in ranges)


def _eligible(scope: Scope) -> str | None:
    """The bearer token of a request the fast path may serve, judged on its headers alone;
    None sends it to the handler."""
    if scope["method"] != "POST" or scope.get("query_string") or settings.DEBUG:
        return None
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _HEADERS:
            if name in found:  # Django joins repeated headers: leave that to it
                return None
            found[name] = value
    if not _plain_accept(found.get(b"accept")):
        return None
    content_type = found.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
    if content_type != b"application/json":
        return None
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    length = found.get(b"content-length")
    if limit is not None and length is not None and (not length.isdigit() or int(length) > limit):
        return None
    scheme, _, token = found.get(b"authorization", b"").decode("latin-1").partition(" ")
    token = token.strip()
    if scheme.lower() != BEARER or not token:
        return None
    return token


def replay(body: bytes, more_body: bool, receive: Receive) -> Receive:
    """``receive`` with what was already read from it given back first."""
    pending = True

    async def replayed() -> dict[str, Any]:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": more_body}
        return await receive()

    return replayed


class BearerFastPath:
    """In front of the API's handler (``config.asgi``): serves what ``_eligible`` and ``parse``
    let through, and hands the rest to ``handler``."""

    def __init__(self, handler: ApiHandler, schema: BaseSchema) -> None:
        self.handler = handler
        self.schema = schema
        self.middleware = _inline_middleware()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _eligible(scope)
        if token is None:
            return await self.handler(scope, receive, send)
        body, more_body = await _read_body(receive)
        if body is None:  # the client left
            return None
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        too_big = more_body or (limit is not None and len(body) > limit)
        operation = None if too_big else parse(body)
        cache.listener.ensure_started()
        viewer = None if operation is None else cache.tokens.get(token_digest(token))
        if operation is None or viewer is None:
            return await self.handler(scope, replay(body, more_body, receive), send)
        thread = self.handler.threads.lend()
        assert isinstance(thread, ApiThread)  # ApiHandler lends no other kind
        try:
            async with ThreadSensitiveContext(executor=thread):
                await self.serve(scope, body, operation, viewer, send, thread)
        finally:
            self.handler.threads.take_back(thread)
        return None

    async def serve(
        self,
        scope: Scope,
        body: bytes,
        operation: Operation,
        viewer: Any,
        send: Send,
        thread: ApiThread,
    ) -> None:
        """``ApiHandler.serve`` with the middleware chain and the view unrolled."""
        set_script_prefix(get_script_prefix(scope))
        if thread.holds_connection:
            await signals.request_started.asend(sender=ApiHandler, scope=scope)
        else:
            signals.request_started.send(sender=ApiHandler, scope=scope)
        request = self.handler.request_class(scope, BytesIO(body))
        end = begin_request(request)
        started = time.perf_counter()
        try:
            response = await self.respond(request, operation, viewer)
            log_request(request, response, started)
        finally:
            end()
        await self.handler.send_response(response, send)
        if thread.holds_connection:
            await sync_to_async(response.close)()
        else:
            response.close()

    async def respond(
        self, request: HttpRequest, operation: Operation, viewer: Any
    ) -> HttpResponseBase:
        """The middleware's hooks around the operation, as ``InlineHooks`` runs them: each
        request hook in order until one answers, then the response hooks of those that ran, in
        reverse."""
        response: HttpResponseBase | None = None
        ran: list[InlineHooks] = []
        for middleware in self.middleware:
            ran.append(middleware)
            process_request = getattr(middleware, "process_request", None)
            if process_request is not None:
                response = process_request(request)
                if response is not None:
                    break
        if response is None:
            response = await self.execute(request, operation, viewer)
        for middleware in reversed(ran):
            if hasattr(middleware, "process_response"):
                response = await middleware.respond(request, response)  # type: ignore[arg-type]
        return response

    async def execute(
        self, request: HttpRequest, operation: Operation, viewer: Any
    ) -> HttpResponseBase:
        """What ``LedgerGraphQLView`` answers for a bearer POST, and Django's 500 for an
        exception (the innermost ``convert_exception_to_response`` on the handler path)."""
        try:
            return await self._execute(request, operation, viewer)
        except Exception as error:  # Django's handler catches the same
            return await sync_to_async(response_for_exception, thread_sensitive=False)(
                request, error
            )

    async def _execute(
        self, request: HttpRequest, operation: Operation, viewer: Any
    ) -> HttpResponse:
        request.user = viewer
        graphql_response = accepts_graphql_response(request.headers.get("Accept", ""))
        sub_response = SubResponse()
        context = ApiContext(request=request, response=sub_response, viewer=viewer)
        try:
            result = await self.schema.execute(
                operation.query,
                variable_values=operation.variables,
                context_value=context,
                operation_name=operation.operation_name,
                allowed_operation_types=POST_OPERATIONS,
                operation_extensions=operation.extensions,
            )
        except CannotGetOperationTypeError as error:  # strawberry's view answers these three
            return _plain(400, error.as_http_error_reason())
        except InvalidOperationTypeError as error:
            return _plain(400, error.as_http_error_reason("POST"))
        except MissingQueryError:
            return _plain(400, "No GraphQL query found in the request")
        return graphql_http_response(
            graphql_payload(result, graphql_response=graphql_response),
            sub_response,
            graphql_response=graphql_response,
            request_error=is_request_error(result),
        )


def _plain(status: int, reason: str) -> HttpResponse:
    """Strawberry's view's answer to an ``HTTPException``."""
    return HttpResponse(content=reason, status=status, content_type="text/plain")


async def _read_body(receive: Receive) -> tuple[bytes | None, bool]:
    """The body, up to ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (past it: what was read, and True for
    more to come, which the handler then reads); None if the client left."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None, False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        more_body = bool(message.get("more_body", False))
        if not more_body or (limit is not None and size > limit):
            return b"".join(chunks), more_body


def _inline_middleware() -> list[InlineHooks]:
    """``API_MIDDLEWARE``'s middlewares, but for the request context (which ``serve`` runs):
    each must run its hooks inline, as the fast path calls them directly."""

    async def unreachable(request: HttpRequest) -> HttpResponse:  # pragma: no cover
        raise AssertionError("the fast path calls hooks, never the chain")

    middleware: list[InlineHooks] = []
    for path in settings.API_MIDDLEWARE:
        factory = import_string(path)
        if factory is request_context_middleware:
            continue
        if not (isinstance(factory, type) and issubclass(factory, InlineHooks)):
            raise ImproperlyConfigured(
                f"API_MIDDLEWARE entry {path} is not InlineHooks: the fast path cannot run it "
                "(set API_FAST_PATH=0, or make it one)."
            )
        middleware.append(factory(unreachable))  # type: ignore[call-arg]
    return middleware
