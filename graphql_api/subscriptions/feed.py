"""Reading a live feed: where it stands now, and the committed rows after a position.

Both go through ``ledger.selectors.activity_feed_page`` (the one feed query, newest first);
a subscription reads forward by asking for the page just newer than its position and putting
it oldest first. Both read the primary whatever scope they run in: a lagging replica must never
make a live feed miss or delay an event (docs/decisions/0019).
"""

from __future__ import annotations

from typing import Any

from ledger.routing import primary_reads
from ledger.selectors import MAX_PAGE_SIZE, Position, activity_feed_page, page_request


def position_of(row: dict[str, Any]) -> Position:
    return Position(key=row["timestamp"], id=row["id"])


def feed_head(*, user_id: int, include_economy: bool) -> Position | None:
    """The newest visible event's position: a subscription without ``after`` starts there."""
    with primary_reads():
        page = activity_feed_page(
            user_id=user_id, request=page_request(first=1), include_economy=include_economy
        )
    return position_of(page.rows[0]) if page.rows else None


def rows_after(
    *, user_id: int, position: Position | None, include_economy: bool, size: int = MAX_PAGE_SIZE
) -> tuple[list[dict[str, Any]], bool]:
    """Up to ``size`` visible events just after ``position`` (all from the start when None),
    oldest first, and whether more follow them."""
    with primary_reads():
        page = activity_feed_page(
            user_id=user_id,
            request=page_request(last=size, before=position),
            include_economy=include_economy,
        )
    rows = list(reversed(page.rows))
    return rows, page.has_previous
