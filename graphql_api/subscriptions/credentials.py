"""An open connection stays exactly as authorized as a new one would be.

A WebSocket authenticates once, at ``connection_init``. Without this module a revoked token, a
logged-out or expired session, or a deactivated user would go on receiving a live feed until
the client hung up. So each authenticated connection keeps the :class:`Credential` it was
opened with and checks it again:

- at once, when its user's credentials change: revoking tokens, logging out, and saving or
  deleting the user announce ``CREDENTIALS_CHANGED`` to the user's group on commit, and every
  connection of that user re-checks its own credential (only those no longer valid close);
- every ``GRAPHQL_WS_REAUTH_SECONDS`` (default 60, jittered) in any case, for what changes
  without a signal: a session that expires, a token revoked by an ``UPDATE`` in SQL, a lost
  channel-layer message.

A connection whose credential fails closes ``4401`` (``CREDENTIALS_EXPIRED``): the client
reconnects with fresh credentials, or anonymously.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.db import transaction
from django.http import HttpRequest

from graphql_api.auth.cache import CREDENTIALS_BROADCAST, credentials_changed
from graphql_api.auth.models import ApiToken
from graphql_api.subscriptions.sending import GroupMessage, send_to_groups

CREDENTIALS_CHANGED = "ledger.credentials.changed"
"""The message ``type`` that makes a user's connections re-check their credentials."""

CREDENTIALS_EXPIRED = "Credentials revoked or expired; reconnect."

DEFAULT_REAUTH_SECONDS = 60.0


@dataclass(frozen=True)
class Credential:
    """What an authenticated connection was opened with: a token's digest or a session key."""

    user_id: int
    token_digest: str | None = None
    session_key: str | None = None

    def is_valid(self) -> bool:
        """The same answer a new connection with this credential would get now."""
        if self.token_digest is not None:
            return ApiToken.objects.filter(
                digest=self.token_digest,
                revoked_at__isnull=True,
                user_id=self.user_id,
                user__is_active=True,
            ).exists()
        if self.session_key is not None:
            return _session_user_id(self.session_key) == self.user_id
        return False


def _session_user_id(session_key: str) -> int | None:
    """The active user a stored session still signs in (Django's own check: it expires
    sessions, verifies the password hash and refuses inactive users), or None."""
    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = auth.get_user(request)
    return user.pk if user.is_authenticated else None


def reauth_seconds() -> float:
    return float(getattr(settings, "GRAPHQL_WS_REAUTH_SECONDS", DEFAULT_REAUTH_SECONDS))


def credentials_group(user_id: int) -> str:
    """The group of every open connection signed in as one user."""
    return f"ledger.credentials.{int(user_id)}"


def announce_credentials_changed(user_id: int) -> None:
    """After the current transaction commits, tell the user's connections to re-check, and
    every web process's token cache to forget the user's tokens (this process's at once)."""
    messages: list[GroupMessage] = [
        (credentials_group(user_id), {"type": CREDENTIALS_CHANGED}),
        (CREDENTIALS_BROADCAST, {"type": CREDENTIALS_CHANGED, "user_id": int(user_id)}),
    ]

    def announce() -> None:
        credentials_changed(user_id)
        send_to_groups(messages)

    transaction.on_commit(announce)


def on_user_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    """post_save / post_delete of the user model: deactivation, password change, deletion.
    A login's own ``last_login`` save changes nothing a connection holds."""
    if kwargs.get("update_fields") == frozenset({"last_login"}):
        return
    if instance.pk is not None:
        announce_credentials_changed(instance.pk)


def on_user_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None and user.pk is not None:
        announce_credentials_changed(user.pk)
