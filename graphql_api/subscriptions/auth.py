"""Who a WebSocket connection acts for, and the close codes that refuse one.

The ``connection_init`` payload may carry ``{"Authorization": "Bearer <token>"}`` (mobile and
other native clients, exactly as the HTTP header); without it the connection acts for the
session cookie's user (browsers), else anonymously (public feeds and stats only). As over
HTTP, a token that is sent and bad refuses the connection instead of downgrading it.

Close codes (the graphql-transport-ws convention: 44xx mirrors HTTP status):

- ``4401`` Unauthorized: the ``Authorization`` value is not a valid, active bearer token, or a
  subscription that needs a signed-in viewer (``userId`` omitted, ``ledgerJobProgress``) was
  sent on an anonymous connection. Reconnect with credentials. An open connection is closed
  4401 too once its credential stops being valid (``credentials.py``).
- ``4403`` Forbidden: strawberry's own answer to a rejected ``connection_init`` (not used by us).
- Handshake refused (HTTP 403, no WebSocket at all): a browser ``Origin`` that is neither the
  server's own nor listed in ``GRAPHQL_WS_ALLOWED_ORIGINS``.

A signed-in viewer who may not see something (a private feed, staff-only progress) gets a
per-operation ``error`` message with ``extensions.code`` ``FORBIDDEN``; the connection stays
open for its other subscriptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from django.contrib.auth.models import AnonymousUser

from graphql_api.auth.request import BEARER
from graphql_api.auth.tokens import authenticate_token, token_digest
from graphql_api.subscriptions.credentials import Credential

CLOSE_UNAUTHORIZED = 4401
INVALID_TOKEN = "Invalid or revoked API token."
MALFORMED_AUTHORIZATION = "Authorization must be 'Bearer <token>'."
SIGN_IN_REQUIRED = "Sign in (session cookie or bearer token in connection_init) to subscribe."


class ConnectionRefused(Exception):
    """Close the connection with ``code`` and ``reason`` instead of acknowledging it."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def authorization_of(params: Mapping[str, Any] | None) -> Any | None:
    """The Authorization value of a connection_init payload (any key case), or None."""
    for key, value in (params or {}).items():
        if isinstance(key, str) and key.lower() == "authorization":
            return value
    return None


class ConnectionAuth(NamedTuple):
    """Who a connection acts for, and what to check again while it stays open (None: anonymous)."""

    viewer: Any
    credential: Credential | None


def connection_viewer(
    *, params: Mapping[str, Any] | None, session_user: Any | None, session_key: str | None = None
) -> ConnectionAuth:
    """The bearer token's user, else the session's user, else anonymous; a bad token refuses."""
    authorization = authorization_of(params)
    if authorization is None:
        if session_user is not None and session_user.is_authenticated:
            credential = Credential(user_id=session_user.pk, session_key=session_key)
            return ConnectionAuth(session_user, credential if session_key else None)
        return ConnectionAuth(AnonymousUser(), None)
    if not isinstance(authorization, str):
        raise ConnectionRefused(CLOSE_UNAUTHORIZED, MALFORMED_AUTHORIZATION)
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != BEARER or not token.strip():
        raise ConnectionRefused(CLOSE_UNAUTHORIZED, MALFORMED_AUTHORIZATION)
    token = token.strip()
    user = authenticate_token(token=token)
    if user is None:
        raise ConnectionRefused(CLOSE_UNAUTHORIZED, INVALID_TOKEN)
    return ConnectionAuth(user, Credential(user_id=user.pk, token_digest=token_digest(token)))
