"""Two Django ASGI handlers over one URLconf: the API's, with a short async-native middleware
list, and the pages', with Django's full one.

``/graphql/`` is the path SPA and mobile clients hit on every screen; it needs a request id,
the security headers, the lazy session and user, and X-Frame-Options, nothing else (no static
files, messages or slash redirects), and none of its hooks may hop to a thread
(``config.middleware``). The admin, the profile page, static files and the probes keep Django's
``MIDDLEWARE`` as Django runs it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.exception import convert_exception_to_response
from django.utils.deprecation import MiddlewareMixin
from django.utils.module_loading import import_string

from config.admission import ASGIApp, Receive, Scope, Send
from config.middleware import InlineHooks

API_PATHS = frozenset({"/graphql/"})
_VIEW_HOOKS = ("process_view", "process_exception", "process_template_response")


class RequestThreads:
    """One-thread executors lent to requests and taken back: a request's sync calls (its ORM
    work, Django's request signals) all run on one thread, as Django requires, but the thread
    outlives the request. Django's handler starts and joins a new thread per request instead:
    measured here 0.46 ms of CPU per request, more than the whole floor's request."""

    def __init__(self, *, keep: int) -> None:
        self.keep = keep
        self._idle: deque[ThreadPoolExecutor] = deque()

    def lend(self) -> ThreadPoolExecutor:
        if self._idle:
            return self._idle.pop()
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")

    def take_back(self, executor: ThreadPoolExecutor) -> None:
        """A call a cancelled request left running finishes before the next borrower's."""
        if len(self._idle) < self.keep:
            self._idle.append(executor)
        else:
            executor.shutdown(wait=False)


class PagesHandler(ASGIHandler):
    """Django's ASGI handler, on a lent thread per request (``RequestThreads``)."""

    def __init__(self) -> None:
        super().__init__()
        self.threads = RequestThreads(keep=settings.HTTP_CONCURRENCY)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP here, not {scope['type']}.")
        executor = self.threads.lend()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self.threads.take_back(executor)


class ApiHandler(PagesHandler):
    """``PagesHandler`` with its middleware chain built from ``settings.API_MIDDLEWARE``."""

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
