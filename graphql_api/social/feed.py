"""The following feed's reads: a page, where it stands now, and the rows after a position.

The players are those the viewer follows whose activity is public (a subquery, so follows and
privacy are read in the page's own statements); economy events are hidden from everyone here.
"""

from __future__ import annotations

from typing import Any

from esports.social.selectors import followed_ids, shown_followed_ids
from graphql_api.subscriptions.feed import position_of
from ledger.routing import primary_reads
from ledger.selectors import MAX_PAGE_SIZE, Page, PageRequest, Position, merged_feed_page
from ledger.selectors import page_request as make_request


def following_feed_page(*, follower_id: int, request: PageRequest) -> Page[dict[str, Any]]:
    return merged_feed_page(user_ids=shown_followed_ids(follower_id=follower_id), request=request)


def following_ids(*, follower_id: int) -> list[int]:
    """The players whose groups a live following feed joins: every one followed, private ones
    too, so that a player who makes their activity public is heard from at once (each read
    applies the visibility rules)."""
    return followed_ids(follower_id=follower_id)


def following_head(*, follower_id: int) -> Position | None:
    """The newest visible event's position: a subscription without ``after`` starts there.
    Read on the primary, as every live read (docs/decisions/0019)."""
    with primary_reads():
        page = following_feed_page(follower_id=follower_id, request=make_request(first=1))
    return position_of(page.rows[0]) if page.rows else None


def following_rows_after(
    *, follower_id: int, position: Position | None, size: int = MAX_PAGE_SIZE
) -> tuple[list[dict[str, Any]], bool]:
    """Up to ``size`` visible events just after ``position``, oldest first, and whether more
    follow them (on the primary: a lagging replica must not delay or drop a live event)."""
    with primary_reads():
        page = following_feed_page(
            follower_id=follower_id, request=make_request(last=size, before=position)
        )
    return list(reversed(page.rows)), page.has_previous
