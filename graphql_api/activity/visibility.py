"""Which events a viewer may see, for any batch of rows: the feed's rules (permissions.py)
applied to events reached one by one (node, nodes, activityEvent, a correction's target)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphql_api.permissions import Viewer, can_see_activity, can_see_economy, is_owner_or_staff
from graphql_api.users.loaders import activity_public_by_user
from ledger.selectors import is_economy_row

Row = dict[str, Any]


def may_see(viewer: Viewer, row: Row, *, activity_public: bool) -> bool:
    """A private player's events only to them and staff; economy events (and corrections not
    proven to cancel a non-economy event) only to the owner and staff; erased players' events
    (no owner) only to staff."""
    owner_id = row["user_id"]
    if not can_see_activity(viewer, owner_id=owner_id, activity_public=activity_public):
        return False
    return not is_economy_row(row) or can_see_economy(viewer, owner_id=owner_id)


def visible_rows(viewer: Viewer, rows: Sequence[Row | None]) -> list[Row | None]:
    """``rows`` with each one the viewer may not see replaced by None: one query for the
    owners' visibility, none when the viewer owns them all or is staff. On Django's thread."""
    others = sorted(
        {
            row["user_id"]
            for row in rows
            if row is not None
            and row["user_id"] is not None
            and not is_owner_or_staff(viewer, row["user_id"])
        }
    )
    public = activity_public_by_user(others) if others else {}
    return [
        row
        if row is not None
        and may_see(viewer, row, activity_public=public.get(row["user_id"], False))
        else None
        for row in rows
    ]
