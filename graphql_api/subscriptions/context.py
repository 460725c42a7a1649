"""The context of a WebSocket connection: its consumer and the viewer it authenticated."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser
from strawberry.types import Info


@dataclass
class SubscriptionContext:
    """One per connection; ``viewer`` is settled at ``connection_init`` (see ``auth.py``)."""

    request: Any
    ws: Any
    viewer: Any = field(default_factory=AnonymousUser)
    connection_params: dict[str, Any] = field(default_factory=dict)


def consumer_of(info: Info) -> Any:
    """The Channels consumer serving this subscription (it joins groups and receives messages)."""
    consumer = getattr(info.context, "ws", None)
    if consumer is None:
        raise RuntimeError("Subscriptions are served over WebSocket by graphql_api.consumers.")
    return consumer
