"""WebSocket routes: GraphQL subscriptions at /graphql/, the same path as HTTP."""

from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.conf import settings
from django.urls import path
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from graphql_api.consumers import LedgerGraphQLWSConsumer
from graphql_api.schema import schema


def websocket_application() -> Any:
    """The WebSocket side of config.asgi: session users resolved from the cookie
    (AuthMiddlewareStack); strawberry's consumer checks the Origin (no header: native client,
    allowed; same origin or GRAPHQL_WS_ALLOWED_ORIGINS: allowed; any other: refused)."""
    consumer = LedgerGraphQLWSConsumer.as_asgi(
        schema=schema,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        allowed_origins=tuple(getattr(settings, "GRAPHQL_WS_ALLOWED_ORIGINS", ())),
    )
    return AuthMiddlewareStack(URLRouter([path("graphql/", consumer)]))
