"""Events by id (node refetches, the events corrections cancel) and when each was recorded.

A feed row (``ledger.selectors.FEED_FIELDS``) carries the event's own columns but not
``created_at``: ``recordedAt`` is read for the whole page in one query, only when asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from graphql_api.nodes.loaders import ContextLoader
from ledger.models import UserActivity
from ledger.selectors import FEED_FIELDS

EVENT_ROW_FIELDS = (*FEED_FIELDS, "created_at", "reverses__event_type")
"""A feed row, when it was recorded, and (for a correction) the type of the event it cancels."""


class EventRowsById(ContextLoader[int, dict[str, Any]]):
    """Events as feed rows (``ledger.selectors.activity_event`` for a batch); the caller decides
    whether the viewer may see each one."""

    @classmethod
    def fetch(cls, keys: list[int]) -> Mapping[int, dict[str, Any]]:
        rows = UserActivity.objects.filter(pk__in=keys).values(*EVENT_ROW_FIELDS)
        return {row["id"]: row for row in rows}


class RecordedAtByEventId(ContextLoader[int, datetime]):
    @classmethod
    def fetch(cls, keys: list[int]) -> Mapping[int, datetime]:
        return dict(UserActivity.objects.filter(pk__in=keys).values_list("id", "created_at"))
