"""A user's activity feed: keyset pages of their events as rows of the event's own columns.

The feed ends at the archive horizon: events before it are in the archive's files (I9), which
``export_user_activity`` reads; ``archive_horizon`` says where that is (docs/decisions/0018)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.sql.compiler import SQLCompiler

from ledger.archive.files import horizon
from ledger.filters import ActivityFilter, valid_filterset
from ledger.models import EventType, UserActivity
from ledger.recorders import recorder
from ledger.routing import replica_read
from ledger.selectors.events import ECONOMY_TYPES, NON_ECONOMY_TYPES
from ledger.selectors.paging import (
    Page,
    PageRequest,
    keyset_order,
    keyset_page,
    keyset_query,
    page_limit,
    page_of,
)
from ledger.selectors.prepared import prepared_values

FEED_FIELDS: tuple[str, ...] = (
    "id",
    "user_id",
    "event_type",
    "timestamp",
    "metadata",
    "source_model",
    "source_id",
    "amount",
    "reverses_id",
)
"""A feed row's columns: all from the event's own row, so a page joins nothing.

A reversal names the type it cancels in ``metadata.reverses.event_type`` (written by
convergence); a single node also reads it from the cancelled row itself."""

FEED_ORDER = ("-timestamp", "-id")
"""Newest first, by when it happened (I7): the ``ledger_activity_feed`` index's order."""

REVERSED_TYPE = "metadata__reverses__event_type"


@replica_read
def activity_feed_page(
    *,
    user_id: int,
    request: PageRequest,
    filters: Mapping[str, Any] | None = None,
    include_economy: bool,
) -> Page[dict[str, Any]]:
    """A page of a user's feed, newest first by (timestamp, id), as dicts of ``FEED_FIELDS``.

    ``include_economy`` False hides coin events and the reversals of coin events: the
    owner and staff see them, others do not. On monthly partitions the page's statement is
    prepared and planned once per connection (``prepared_values``, decision 0030).
    """
    rows = _feed(user_id=user_id, filters=filters, include_economy=include_economy)
    if recorder().partition_months() is None:  # SQLite, or one table: planned in 0.05 ms
        return keyset_page(rows, order=FEED_ORDER, request=request)
    ordered = keyset_order(rows, order=FEED_ORDER, request=request)
    return page_of(prepared_values(ordered, limit=page_limit(request)), request=request)


def activity_feed_query(
    *,
    user_id: int,
    request: PageRequest,
    filters: Mapping[str, Any] | None = None,
    include_economy: bool,
) -> QuerySet[Any]:
    """The SELECT a feed page runs, its LIMIT written in (exposed so a test can EXPLAIN it; on
    partitions the page prepares it with the LIMIT a parameter, whose generic plan tests
    EXPLAIN too)."""
    rows = _feed(user_id=user_id, filters=filters, include_economy=include_economy)
    return keyset_query(rows, order=FEED_ORDER, request=request)


def _feed(
    *, user_id: int, filters: Mapping[str, Any] | None, include_economy: bool
) -> QuerySet[Any]:
    """A user's feed rows, filtered, unordered and unpaged."""
    queryset: QuerySet[UserActivity] = UserActivity.objects.filter(user_id=user_id)
    if filters:
        queryset = valid_filterset(ActivityFilter, data=filters, queryset=queryset).qs
    if not include_economy:
        queryset = without_economy(queryset)
    return queryset.values(*FEED_FIELDS)


def without_economy(queryset: QuerySet[UserActivity]) -> QuerySet[UserActivity]:
    """``queryset`` without coin events and the corrections of coin events.

    Fail closed: a correction is shown only when its metadata proves it cancels a non-economy
    event. A row filter on the scanned rows, not a join. The coin types are written into the
    SQL, not bound: a prepared statement's generic plan can then prove the partial index
    ``ledger_activity_feed_shown`` holds what it reads (decision 0030)."""
    coins = [_Written(event_type) for event_type in ECONOMY_TYPES]
    return queryset.exclude(event_type__in=coins).exclude(
        Q(event_type=EventType.REVERSAL) & ~Q(**{f"{REVERSED_TYPE}__in": NON_ECONOMY_TYPES})
    )


class _Written(Value):
    """A string constant written into the SQL as a literal, not a parameter: for the ledger's own
    names only (an event type), which need no quoting beyond the quotes."""

    def __init__(self, value: str) -> None:
        if not _NAME.fullmatch(value):
            raise ValueError(f"not a name to write into SQL: {value!r}")
        super().__init__(value, output_field=CharField())

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[str | int, ...]]:
        return f"'{self.value}'", ()


_NAME = re.compile(r"[a-z_]+")


def archive_horizon() -> datetime | None:
    """Events before this were moved to the archive (None: none were): the feed ends there."""
    return horizon()


@replica_read
def activity_event(*, event_id: int) -> dict[str, Any] | None:
    """One event as a feed row, with the cancelled event's type read from that row itself
    (the caller decides whether the viewer may see it)."""
    return (
        UserActivity.objects.filter(pk=event_id)
        .values(*FEED_FIELDS, "reverses__event_type")
        .first()
    )


@replica_read
def activity_events(*, event_ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """Events by id as feed rows, with when each was recorded and (for a correction) the type
    of the event it cancels, in one query (node refetches and corrections' targets, batched)."""
    rows = UserActivity.objects.filter(pk__in=list(event_ids)).values(
        *FEED_FIELDS, "created_at", "reverses__event_type"
    )
    return {row["id"]: row for row in rows}


@replica_read
def recorded_at(*, event_ids: Collection[int]) -> dict[int, datetime]:
    """When the ledger learned of each event (``created_at``, I7), for a page at once: a feed
    row does not carry it."""
    return dict(UserActivity.objects.filter(pk__in=list(event_ids)).values_list("id", "created_at"))


def reversed_type(row: Mapping[str, Any]) -> str | None:
    """For a correction, the type of the event it cancels; None for any other event."""
    if row["event_type"] != EventType.REVERSAL:
        return None
    if row.get("reverses__event_type"):
        return str(row["reverses__event_type"])
    reverses = (row.get("metadata") or {}).get("reverses") or {}
    value = reverses.get("event_type") if isinstance(reverses, dict) else None
    return str(value) if value else None


def is_economy_row(row: Mapping[str, Any]) -> bool:
    """Whether a row is a coin event or a correction not proven to cancel a non-coin event."""
    if row["event_type"] in ECONOMY_TYPES:
        return True
    return row["event_type"] == EventType.REVERSAL and reversed_type(row) not in NON_ECONOMY_TYPES
