"""One feed merged from many users' feeds (a following feed): keyset pages newest first by
(timestamp, id), economy events hidden, at a cost bounded by the page, not the histories.

The users come from the caller as ids or a subquery of ids (the ledger knows users and events,
not why they were chosen). A page is read in two statements (decision 0023):

1. each user's *head*: the timestamp of their first visible event beyond the page's start, one
   index probe per user (``LIMIT 1`` on ``ledger_activity_feed_shown``, the feed index without
   coin events, so a probe steps over no coin history);
2. the page itself, from the users whose head is not beyond the ``(size+1)``-th head, bounded
   by that head's timestamp: at least ``size+1`` events lie between the start and that bound,
   so the page and its "more?" row lie there too, and only those users can have events there.

Reading every user's events up to the page size (a LATERAL join) would read ``users * size``
rows; bounding by the heads reads one row per user and then one window of the page's size.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from ledger.models import UserActivity
from ledger.recorders import recorder
from ledger.routing import replica_read
from ledger.selectors.feed import FEED_FIELDS, FEED_ORDER, without_economy
from ledger.selectors.paging import Page, PageRequest, keyset_page, reverse, seek
from ledger.selectors.windows import Span, window_bound

UserIds = Collection[int] | QuerySet[Any]
"""User ids: a list, or a queryset of rows with a ``user_id`` value (``.values(user_id=...)``),
which the page's statements embed (its rows are read with the heads, in one statement)."""


@replica_read
def merged_feed_page(*, user_ids: UserIds, request: PageRequest) -> Page[dict[str, Any]]:
    """A page of the merged feeds of ``user_ids``, newest first, as dicts of ``FEED_FIELDS``:
    first/after forward, or last/before backward (what a live subscription reads)."""
    backward = request.last is not None
    walk = reverse(FEED_ORDER) if backward else FEED_ORDER
    start = request.before if backward else request.after
    beyond = without_economy(UserActivity.objects.all())
    if start is not None:
        beyond = beyond.filter(seek(walk, (start.key, start.id)))
    heads = _heads_in_window(user_ids=user_ids, beyond=beyond, request=request)
    if heads is None:
        heads = _heads(user_ids=user_ids, beyond=beyond, walk=walk)
    if not heads:
        # As keyset_page says of an empty page: rows exist on the side it came from.
        came_from_start = start is not None
        return Page(
            rows=[],
            has_next=backward and came_from_start,
            has_previous=not backward and came_from_start,
        )
    window = without_economy(UserActivity.objects.all())
    if len(heads) > request.size:
        # size + 1 heads, so size + 1 events, lie between the start and the bound: the page and
        # the row that says whether there are more lie there too.
        bound = heads[request.size][1]
        users = [pk for pk, head in heads if (head <= bound if backward else head >= bound)]
        window = window.filter(
            user_id__in=users, **{f"timestamp__{'lte' if backward else 'gte'}": bound}
        )
    else:  # fewer users with events ahead than the page holds: each may fill it
        window = window.filter(user_id__in=[pk for pk, _ in heads])
    return keyset_page(window.values(*FEED_FIELDS), order=FEED_ORDER, request=request)


def _heads_in_window(
    *, user_ids: UserIds, beyond: QuerySet[UserActivity], request: PageRequest
) -> list[tuple[int, Any]] | None:
    """A forward page's heads read in its first window of months only (decision 0026), so
    that the statement is planned over those months; None when the window holds no more heads
    than the page (they are read again without it). With more, the ``(size+1)``-th head is in
    the window, and a user without a head there has none at or above it: the page is the one
    the heads of all the months give."""
    start = request.after.key if request.after is not None else timezone.now()
    span = Span(months=recorder().partition_months(), start=start)
    lower = window_bound(span, request)
    if lower is None:
        return None
    heads = _heads(user_ids=user_ids, beyond=beyond.filter(timestamp__gte=lower), walk=FEED_ORDER)
    return heads if len(heads) > request.size else None


def _heads(
    *, user_ids: UserIds, beyond: QuerySet[UserActivity], walk: tuple[str, ...]
) -> list[tuple[int, Any]]:
    """(user id, timestamp of their first visible event beyond the start) for each user with
    one, in the walk's order."""
    if isinstance(user_ids, QuerySet):
        users: QuerySet[Any] = user_ids.order_by()
    else:
        users = get_user_model().objects.filter(pk__in=list(user_ids)).values(user_id=F("pk"))
    head = beyond.filter(user_id=OuterRef("user_id")).order_by(*walk).values("timestamp")[:1]
    rows = users.annotate(head=Subquery(head)).values_list("user_id", "head")
    found = [(int(pk), head) for pk, head in rows if head is not None]
    found.sort(key=lambda row: row[1], reverse=walk[0].startswith("-"))
    return found
