"""The GraphQL WebSocket consumer: strawberry's, with our viewer, close codes and protocol.

Only graphql-transport-ws is spoken (one authentication path); see ``subscriptions/auth.py``
for who a connection acts for and the close codes that refuse one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Any

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser
from strawberry.channels import GraphQLWSConsumer
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    NextMessagePayload,
)
from strawberry.types.unset import UNSET, UnsetType

from graphql_api.errors import UNAUTHENTICATED
from graphql_api.subscriptions.auth import (
    CLOSE_UNAUTHORIZED,
    ConnectionRefused,
    connection_viewer,
)
from graphql_api.subscriptions.context import SubscriptionContext
from graphql_api.subscriptions.credentials import (
    CREDENTIALS_CHANGED,
    CREDENTIALS_EXPIRED,
    Credential,
    credentials_group,
    reauth_seconds,
)

logger = logging.getLogger("graphql_api.subscriptions")


def _unauthenticated(payload: NextMessagePayload) -> str | None:
    """The message of an UNAUTHENTICATED error in a result, as the client would read it."""
    for error in payload.get("errors") or []:
        if (error.get("extensions") or {}).get("code") == UNAUTHENTICATED:
            return error["message"]
    return None


class LedgerTransportWSHandler(BaseGraphQLTransportWSHandler[SubscriptionContext, None]):
    """Closes with a code instead of acknowledging a bad token, and closes 4401 when an
    anonymous connection subscribes to something that needs a signed-in viewer.

    Both through strawberry's public methods: ``handle_connection_init``, and ``send_message``,
    which every message to the client goes through."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._answered: dict[str, Operation[SubscriptionContext, None]] = {}
        self._closed = False

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except ConnectionRefused as refused:
            await self.websocket.close(code=refused.code, reason=refused.reason)

    async def send_message(self, message: Message) -> None:
        """An operation whose first result says UNAUTHENTICATED closes the connection 4401
        instead (a client signs in by connecting again); nothing is sent after that."""
        if self._closed:
            return
        if message["type"] == "next" and self._is_first_result(message["id"]):
            reason = _unauthenticated(message["payload"])
            if reason is not None:
                self._closed = True
                await self.websocket.close(code=CLOSE_UNAUTHORIZED, reason=reason)
                return
        await super().send_message(message)

    def _is_first_result(self, operation_id: str) -> bool:
        """Whether the operation now running under this id has sent no result yet (a client
        may reuse an id once its operation is complete)."""
        operation = self.operations.get(operation_id)
        if operation is None or self._answered.get(operation_id) is operation:
            return False
        self._answered[operation_id] = operation
        return True


class LedgerGraphQLWSConsumer(GraphQLWSConsumer[SubscriptionContext, None]):
    """strawberry's consumer, plus: an authenticated connection re-checks its credential while
    it stays open and closes 4401 once it fails (see ``subscriptions/credentials.py``)."""

    graphql_transport_ws_handler_class = LedgerTransportWSHandler

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._credentials_changed = asyncio.Event()
        self._credential_watch: asyncio.Task[None] | None = None
        self._credentials_group: str | None = None

    async def get_context(self, request: Any, response: Any) -> SubscriptionContext:
        return SubscriptionContext(request=request, ws=request)

    async def on_ws_connect(self, context: SubscriptionContext) -> UnsetType | dict[str, object]:
        session_user = self.scope.get("user") or AnonymousUser()
        session = self.scope.get("session")
        authenticated = await database_sync_to_async(connection_viewer)(
            params=context.connection_params,
            session_user=session_user,
            session_key=getattr(session, "session_key", None),
        )
        context.viewer = authenticated.viewer
        if authenticated.credential is not None:
            await self._watch(authenticated.credential)
        return UNSET

    async def dispatch(self, message: Any) -> None:
        if message.get("type") == CREDENTIALS_CHANGED:
            self._credentials_changed.set()
            return
        await super().dispatch(message)

    async def disconnect(self, code: int) -> None:
        if self._credential_watch is not None:
            self._credential_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._credential_watch
        if self._credentials_group is not None and self.channel_layer is not None:
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(self._credentials_group, self.channel_name)
        await super().disconnect(code)

    async def _watch(self, credential: Credential) -> None:
        """Join the user's credentials group, then re-check on each announcement or timeout."""
        if self.channel_layer is not None:
            self._credentials_group = credentials_group(credential.user_id)
            await self.channel_layer.group_add(self._credentials_group, self.channel_name)
        self._credential_watch = asyncio.create_task(self._recheck_until_invalid(credential))

    async def _recheck_until_invalid(self, credential: Credential) -> None:
        interval = reauth_seconds()
        is_valid = database_sync_to_async(credential.is_valid)
        while True:
            jittered = interval * random.uniform(0.8, 1.2)  # spreads the checks out
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._credentials_changed.wait(), jittered)
            self._credentials_changed.clear()
            try:
                valid = await is_valid()
            except Exception:  # a database blip: keep the connection, check again next time
                logger.exception("could not re-check the credential of user %s", credential.user_id)
                continue
            if not valid:
                await self.close(code=CLOSE_UNAUTHORIZED, reason=CREDENTIALS_EXPIRED)
                return
