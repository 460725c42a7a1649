"""The API's middleware: Django's own, with their hooks run in the event loop.

Django runs each hook of a ``MiddlewareMixin`` through ``sync_to_async`` in an async stack: a
thread hop per hook, a dozen per request with the default list (py-spy on a uvicorn worker:
over half its time went to hops; docs/benchmarks.md). The hooks below do no I/O (they read and
set headers, cookies and lazy attributes), so they run inline; the one that can write (a
modified session's save) still goes to a thread. ``config.asgi`` serves ``/graphql/`` through
exactly this list (``API_MIDDLEWARE``); every other path keeps Django's full ``MIDDLEWARE``.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware as _Authentication
from django.contrib.sessions.middleware import SessionMiddleware as _Session
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.clickjacking import XFrameOptionsMiddleware as _XFrameOptions
from django.middleware.csrf import CsrfViewMiddleware as _Csrf
from django.middleware.security import SecurityMiddleware as _Security
from django.utils.deprecation import MiddlewareMixin


class InlineHooks:
    """Mixed in before a ``MiddlewareMixin``: its request and response hooks run in the event
    loop. Only for middlewares whose hooks do no I/O; async-only, as ``config.asgi`` uses it."""

    sync_capable = False
    async_capable = True

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        response = None
        process_request = getattr(self, "process_request", None)
        if process_request is not None:
            response = process_request(request)
        response = response or await self.get_response(request)  # type: ignore[attr-defined]
        if hasattr(self, "process_response"):
            response = await self.respond(request, response)
        return response

    async def respond(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        return self.process_response(request, response)  # type: ignore[attr-defined]


class SecurityMiddleware(InlineHooks, _Security):
    """HTTPS redirect, HSTS, nosniff, referrer and opener policies: headers only."""


class SessionMiddleware(InlineHooks, _Session):
    """The session is lazy: a bearer request never loads it. Saving one (a login, a logout, a
    rotated key) is the only I/O, and goes to a thread."""

    async def respond(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session: Any = getattr(request, "session", None)
        if session is not None and (session.modified or settings.SESSION_SAVE_EVERY_REQUEST):
            return await sync_to_async(self.process_response)(request, response)
        return self.process_response(request, response)


class AuthenticationMiddleware(InlineHooks, _Authentication):
    """Sets the lazy ``request.user`` and ``request.auser``; the view awaits the latter."""


class CsrfCookieMiddleware(InlineHooks, MiddlewareMixin):
    """CSRF's cookie handling without its check: reads the incoming cookie (so ``get_token``
    keeps the browser's secret) and sets the cookie a page asked for. The check itself is the
    view's, for session-authenticated requests (graphql_api.views). Inline because the secret
    lives in a cookie (``CSRF_USE_SESSIONS`` is off)."""

    def __init__(self, get_response: Any) -> None:
        super().__init__(get_response)
        self._csrf = _Csrf(get_response)

    def process_request(self, request: HttpRequest) -> None:
        self._csrf.process_request(request)

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        return self._csrf.process_response(request, response)


class XFrameOptionsMiddleware(InlineHooks, _XFrameOptions):
    """``X-Frame-Options: DENY`` on every response (GraphiQL's page included)."""
