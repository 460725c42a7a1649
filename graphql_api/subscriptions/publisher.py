"""Announce committed events to their users' groups.

Connected to ``ledger.signals.activity_recorded`` in ``GraphqlApiConfig.ready``: the ledger
sends it from ``transaction.on_commit`` (I5), so a rolled-back batch announces nothing. The
ledger knows nothing of channels; this receiver is the only bridge.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from graphql_api.subscriptions.groups import ActivityMessage, activity_message, user_group
from ledger.drafts import RecordedEvent

logger = logging.getLogger("graphql_api.subscriptions")


def messages_for(events: Iterable[RecordedEvent]) -> list[tuple[str, ActivityMessage]]:
    """One (group, message) per user of the batch, carrying that user's event ids."""
    by_user: dict[int, list[int]] = defaultdict(list)
    for event in events:
        if event.user_id is not None:
            by_user[event.user_id].append(event.id)
    return [
        (user_group(user_id), activity_message(user_id=user_id, event_ids=ids))
        for user_id, ids in sorted(by_user.items())
    ]


def publish_recorded_activity(
    sender: Any, *, events: tuple[RecordedEvent, ...], **kwargs: Any
) -> None:
    """Signal receiver: one group_send per user of the batch, in one hop to the event loop."""
    messages = messages_for(events)
    layer = get_channel_layer()
    if layer is None or not messages:
        return
    async_to_sync(_send_all)(layer, messages)


async def _send_all(layer: Any, messages: list[tuple[str, ActivityMessage]]) -> None:
    """A failing layer is logged, never raised: the events are committed, and clients resync
    from their cursor (channel layers deliver at most once anyway)."""
    for group, message in messages:
        try:
            await layer.group_send(group, message)
        except Exception:
            logger.exception("could not announce events to %s", group)
