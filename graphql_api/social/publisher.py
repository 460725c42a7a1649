"""Tell a viewer's live following feeds that whom they follow changed (after the commit), so
they join the groups of newly followed players."""

from __future__ import annotations

from typing import Any

from graphql_api.subscriptions.groups import ACTIVITY_MESSAGE
from graphql_api.subscriptions.sending import send_to_groups

FOLLOWS_CHANGED = "follows_changed"
"""The flag of this message: it carries no events (it has the activity messages' type, so the
same listener hears both)."""


def following_group(follower_id: int) -> str:
    return f"ledger.following.{int(follower_id)}"


def follows_changed_message(follower_id: int) -> dict[str, Any]:
    return {
        "type": ACTIVITY_MESSAGE,
        "user_id": int(follower_id),
        "event_ids": [],
        FOLLOWS_CHANGED: True,
    }


def announce_follows_changed(*, follower_id: int) -> None:
    send_to_groups([(following_group(follower_id), follows_changed_message(follower_id))])
