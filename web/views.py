"""The profile page shell.

The view knows nothing about players: it serves the same shell for every username and the
page's script asks the public GraphQL API for everything (an unknown user is the API's answer,
shown by the page), exactly as a separate SPA or mobile client would.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

GRAPHQL_PATH = "/graphql/"
"""Where the API answers queries (HTTP POST) and subscriptions (WebSocket), same origin."""


@require_safe
@ensure_csrf_cookie
def profile_page(request: HttpRequest, username: str) -> HttpResponse:
    """The shell; the CSRF cookie lets a signed-in viewer's queries pass the API's CSRF check.
    It loads nothing from elsewhere, and its policy says so (``PAGE_CONTENT_SECURITY_POLICY``)."""
    response = render(
        request,
        "web/profile.html",
        {"username": username, "graphql_path": GRAPHQL_PATH},
    )
    response["Content-Security-Policy"] = settings.PAGE_CONTENT_SECURITY_POLICY
    return response
