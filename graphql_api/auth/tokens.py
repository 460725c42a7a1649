"""Issue, check and revoke bearer tokens (sha256 of a ``secrets.token_urlsafe``)."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from graphql_api.auth.models import ApiToken
from graphql_api.subscriptions.credentials import announce_credentials_changed

TOKEN_BYTES = 32
PREFIX_LENGTH = 8


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def issue_api_token(*, user: Any, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for ``user``; return the row and the plain token (never stored)."""
    plain = secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=plain[:PREFIX_LENGTH], digest=token_digest(plain)
    )
    return token, plain


def authenticate_token(*, token: str) -> Any | None:
    """The active user a token belongs to, or None (unknown, revoked, or inactive user)."""
    return authenticate_digest(digest=token_digest(token))


def authenticate_digest(*, digest: str) -> Any | None:
    """``authenticate_token`` for a token already hashed."""
    row = (
        ApiToken.objects.select_related("user")
        .filter(digest=digest, revoked_at__isnull=True)
        .first()
    )
    if row is None or not row.user.is_active:
        return None
    return row.user


@transaction.atomic
def revoke_api_tokens(*, user: Any, prefix: str | None = None) -> int:
    """Revoke the user's active tokens (those starting with ``prefix`` if given); count them."""
    tokens = ApiToken.objects.filter(user=user)
    if prefix:
        tokens = tokens.filter(prefix=prefix[:PREFIX_LENGTH])
    return revoke_tokens(tokens)


@transaction.atomic
def revoke_tokens(tokens: QuerySet[ApiToken]) -> int:
    """Revoke the active ones of ``tokens``; on commit, their owners' open WebSockets re-check
    and those opened with a revoked token close. Count them."""
    active = tokens.filter(revoked_at__isnull=True)
    owners = set(active.values_list("user_id", flat=True))
    count = active.update(revoked_at=timezone.now())
    for user_id in sorted(owners):
        announce_credentials_changed(user_id)
    return count


def user_by_username(*, username: str) -> Any | None:
    return get_user_model().objects.filter(username=username).first()
