"""Channel-layer group names and the one message the ledger's commits become.

One group per user: every subscription about that user (feed, stats) joins it. A message names
the user and the ids of their newly committed events, nothing else: subscribers read the
committed rows themselves, with the viewer's visibility rules (no personal data in Redis).
"""

from __future__ import annotations

from typing import Any, TypedDict

ACTIVITY_MESSAGE = "ledger.activity"
"""The message ``type``: strawberry's consumer hands it to the listening subscriptions."""


class ActivityMessage(TypedDict):
    type: str
    user_id: int
    event_ids: list[int]


def user_group(user_id: int) -> str:
    """The group of one user's subscribers (channels allows ``[a-zA-Z0-9_.-]``, < 100 chars)."""
    return f"ledger.user.{int(user_id)}"


def activity_message(*, user_id: int, event_ids: list[int]) -> ActivityMessage:
    return {"type": ACTIVITY_MESSAGE, "user_id": int(user_id), "event_ids": sorted(event_ids)}


def is_activity_message(message: Any) -> bool:
    return isinstance(message, dict) and message.get("type") == ACTIVITY_MESSAGE
