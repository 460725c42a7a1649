"""Two Django ASGI handlers over one URLconf: the API's, with a short async-native middleware
list, and the pages', with Django's full one.

``/graphql/`` is the path SPA and mobile clients hit on every screen; it needs a request id,
the security headers, the lazy session and user, and X-Frame-Options, nothing else (no static
files, messages or slash redirects), and none of its hooks may hop to a thread
(``config.middleware``). The admin, the profile page, static files and the probes keep Django's
``MIDDLEWARE`` as Django runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import ImproperlyConfigured, RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.exception import convert_exception_to_response
from django.db import close_old_connections, connections
from django.urls import set_script_prefix
from django.utils.deprecation import MiddlewareMixin
from django.utils.module_loading import import_string

from config.admission import ASGIApp, Receive, Scope, Send
from config.middleware import InlineHooks

API_PATHS = frozenset({"/graphql/"})
_VIEW_HOOKS = ("process_view", "process_exception", "process_template_response")


_P = ParamSpec("_P")
_R = TypeVar("_R")


class RequestThread(ThreadPoolExecutor):
    """One thread for one request at a time (Django requires a request's sync calls on one
    thread)."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="request")


class ApiThread(RequestThread):
    """A ``RequestThread`` that hands back the database connections each call leaves open
    (Django's ``close_old_connections``, as at a request's end: a pooled connection goes back
    to the pool, a persistent one stays until its ``CONN_MAX_AGE``) and remembers whether one
    stayed. Between calls it then holds none, so a request's end needs no trip here to close
    them (``ApiHandler``). A call is a whole selector or service: transactions never span two."""

    holds_connection = False

    def submit(self, fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_R]:
        return super().submit(self._call, fn, *args, **kwargs)

    def _call(self, fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()
            self.holds_connection = any(
                conn.connection is not None for conn in connections.all(initialized_only=True)
            )


class RequestThreads:
    """One-thread executors lent to requests and taken back: a request's sync calls (its ORM
    work, Django's request signals) all run on one thread, as Django requires, but the thread
    outlives the request. Django's handler starts and joins a new thread per request instead:
    measured here 0.46 ms of CPU per request, more than the whole floor's request."""

    def __init__(self, *, keep: int, kind: type[RequestThread] = RequestThread) -> None:
        self.keep = keep
        self.kind = kind
        self._idle: deque[RequestThread] = deque()

    def lend(self) -> RequestThread:
        if self._idle:
            return self._idle.pop()
        return self.kind()

    def take_back(self, executor: RequestThread) -> None:
        """A call a cancelled request left running finishes before the next borrower's."""
        if len(self._idle) < self.keep:
            self._idle.append(executor)
        else:
            executor.shutdown(wait=False)


class PagesHandler(ASGIHandler):
    """Django's ASGI handler, on a lent thread per request (``RequestThreads``)."""

    thread_kind: type[RequestThread] = RequestThread

    def __init__(self) -> None:
        super().__init__()
        self.threads = RequestThreads(keep=settings.HTTP_CONCURRENCY, kind=self.thread_kind)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP here, not {scope['type']}.")
        thread = self.threads.lend()
        try:
            async with ThreadSensitiveContext(executor=thread):
                await self.serve(scope, receive, send, thread)
        finally:
            self.threads.take_back(thread)

    async def serve(self, scope: Scope, receive: Receive, send: Send, thread: Any) -> None:
        await self.handle(scope, receive, send)


class ApiHandler(PagesHandler):
    """``PagesHandler`` with its middleware chain built from ``settings.API_MIDDLEWARE``, and
    Django's request signals sent in the event loop when the request's thread holds no
    database connection (``ApiThread``; decision 0025)."""

    thread_kind = ApiThread

    async def serve(self, scope: Scope, receive: Receive, send: Send, thread: ApiThread) -> None:
        """Django's ``ASGIHandler.handle``, but for where ``request_started`` and
        ``request_finished`` run. Their receivers (``close_old_connections``, ``reset_queries``,
        ``close_caches``, ``reset_urlconf``) act on the calling thread's connections; Django
        hops to the request's thread for each signal, two of a stats request's three hops
        (py-spy: a quarter of the worker's time went to hops). When that thread holds no
        connection (``ApiThread`` handed them back after each call) they have nothing to do
        there, and run here. In DEBUG they keep Django's hops: ``reset_queries`` must reach the
        thread's query log."""
        inline = not settings.DEBUG
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        if inline and not thread.holds_connection:
            signals.request_started.send(sender=self.__class__, scope=scope)
        else:
            await signals.request_started.asend(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            assert error_response is not None
            body_file.close()
            await self.send_response(error_response, send)
            await sync_to_async(error_response.close)()
            return

        async def process_request(request: Any, send: Send) -> Any:
            response = await self.run_get_response(request)
            with contextlib.suppress(asyncio.CancelledError):  # the client left meanwhile
                await self.send_response(response, send)
            return response

        # As Django: a disconnect while the response is made cancels it.
        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(process_request(request, send)),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            await signals.request_finished.asend(sender=self.__class__)
        else:
            if inline and not thread.holds_connection:
                response.close()
            else:
                await sync_to_async(response.close)()
        body_file.close()

    def load_middleware(self, is_async: bool = False) -> None:
        """Each entry must be async-native: a function middleware that is async-capable, or a
        ``MiddlewareMixin`` whose hooks run inline (``config.middleware.InlineHooks``), without
        view hooks. Django runs anything else through a thread hop, which this list avoids."""
        self._view_middleware: list[Callable[..., Any]] = []
        self._template_response_middleware: list[Callable[..., Any]] = []
        self._exception_middleware: list[Callable[..., Any]] = []
        handler = convert_exception_to_response(self._get_response_async)  # type: ignore[attr-defined]
        for path in reversed(settings.API_MIDDLEWARE):
            middleware = import_string(path)
            hops = isinstance(middleware, type) and (
                issubclass(middleware, MiddlewareMixin) and not issubclass(middleware, InlineHooks)
            )
            if (
                hops
                or not getattr(middleware, "async_capable", False)
                or any(hasattr(middleware, hook) for hook in _VIEW_HOOKS)
            ):
                raise ImproperlyConfigured(
                    f"API_MIDDLEWARE entry {path} must be async-capable, without view hooks."
                )
            handler = convert_exception_to_response(middleware(handler))
        self._middleware_chain = handler


def http_router(*, api: ASGIApp, pages: ASGIApp) -> ASGIApp:
    """The API's paths to ``api``, every other HTTP request to ``pages``."""

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        handler = api if scope["path"] in API_PATHS else pages
        await handler(scope, receive, send)

    return route
