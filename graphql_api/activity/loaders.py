"""Events by id (node refetches, the events corrections cancel) and when each was recorded.

A feed row (``ledger.selectors.FEED_FIELDS``) carries the event's own columns but not
``created_at``: ``recordedAt`` is read for the whole page in one query, only when asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from graphql_api.nodes.loaders import ContextLoader
from ledger.selectors import activity_events, recorded_at


class EventRowsById(ContextLoader[int, dict[str, Any]]):
    """Events as feed rows (``ledger.selectors.activity_event`` for a batch); the caller decides
    whether the viewer may see each one."""

    @classmethod
    def fetch(cls, keys: list[int]) -> Mapping[int, dict[str, Any]]:
        return activity_events(event_ids=keys)


class RecordedAtByEventId(ContextLoader[int, datetime]):
    @classmethod
    def fetch(cls, keys: list[int]) -> Mapping[int, datetime]:
        return recorded_at(event_ids=keys)
