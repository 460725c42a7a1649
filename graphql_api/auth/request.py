"""Resolve the viewer of a request: a bearer token if one is sent, else the session."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from graphql_api.auth import cache
from graphql_api.auth.tokens import authenticate_digest, authenticate_token, token_digest

BEARER = "bearer"


class InvalidToken(Exception):
    """An Authorization header was sent but names no active token: refuse, do not downgrade."""


def bearer_token(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != BEARER:
        return None
    return value.strip() or ""


def viewer_from_token(request: HttpRequest) -> Any | None:
    """The token's user, None without a bearer header; InvalidToken for a bad one."""
    token = bearer_token(request)
    if token is None:
        return None
    user = authenticate_token(token=token) if token else None
    if user is None:
        raise InvalidToken("Invalid or revoked API token.")
    return user


async def aviewer_from_token(request: HttpRequest) -> Any | None:
    """``viewer_from_token`` through this process's cache (``graphql_api.auth.cache``): a
    database read, on a thread, only for a token not seen in the last few seconds."""
    token = bearer_token(request)
    if token is None:
        return None
    if not token:
        raise InvalidToken("Invalid or revoked API token.")
    digest = token_digest(token)
    cache.listener.ensure_started()
    user = cache.tokens.get(digest)
    if user is None:
        generation = cache.tokens.generation()
        user = await sync_to_async(authenticate_digest)(digest=digest)
        if user is None:
            raise InvalidToken("Invalid or revoked API token.")
        cache.tokens.put(digest, user, generation=generation)
    return user


def anonymous() -> AnonymousUser:
    return AnonymousUser()
