"""A live feed read forward from a subscription's position, as the feed's typed edges: the
catch-up after ``after`` and the read after each announcement are the same loop, for a player's
feed and for the following feed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass
from functools import partial
from typing import Any

from strawberry.types import Info

from graphql_api.activity.events import events_for
from graphql_api.activity.links import Wanted
from graphql_api.activity.queries import feed_edge
from graphql_api.activity.types import ActivityEdge
from graphql_api.subscriptions.feed import position_of
from graphql_api.subscriptions.shared import shared_read
from ledger.selectors import Position

RowsAfter = Callable[..., Awaitable[tuple[list[dict[str, Any]], bool]]]
"""Reads the rows just after ``position=``, oldest first, and whether more follow them."""


@dataclass
class ForwardFeed:
    """Where a subscription stands in its feed, and how it reads on from there."""

    info: Info
    wanted: Wanted
    key: Hashable
    """Names the feed and what it shows, for ``shared_read``: subscriptions reading the same
    rows from the same position share the read."""
    rows_after: RowsAfter
    position: Position | None

    async def edges(self, *, since: float) -> AsyncIterator[ActivityEdge]:
        """Every row after the position, page by page, as edges; the position follows each row,
        so nothing is yielded twice. ``since``: when the subscription was last notified."""
        more = True
        while more:
            at = self.position
            rows, more = await shared_read(
                (self.key, at), since=since, read=partial(self.rows_after, position=at)
            )
            # The rows are visible by the feed's own query: every event is there.
            events = await events_for(self.info, rows, self.wanted, check_visibility=False)
            for row, event in zip(rows, events, strict=True):
                self.position = position_of(row)
                if event is not None:
                    yield feed_edge(row, event)
