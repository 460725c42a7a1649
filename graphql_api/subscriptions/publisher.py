"""Announce committed events to their users' groups.

Connected to ``ledger.signals.activity_recorded`` in ``GraphqlApiConfig.ready``: the ledger
sends it from ``transaction.on_commit`` (I5), so a rolled-back batch announces nothing. The
ledger knows nothing of channels; this receiver is the only bridge.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from graphql_api.subscriptions.groups import ActivityMessage, activity_message, user_group
from graphql_api.subscriptions.sending import send_to_groups
from ledger.drafts import RecordedEvent


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
    send_to_groups(messages_for(events))
