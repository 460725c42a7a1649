"""Which events a read counts: those that still stand, and the coin events."""

from __future__ import annotations

from django.db.models import QuerySet

from ledger.models import EventType, UserActivity

ECONOMY_TYPES: tuple[str, ...] = (EventType.COINS_EARNED, EventType.COINS_SPENT)
NON_ECONOMY_TYPES: tuple[str, ...] = tuple(
    t for t in EventType.values if t not in (*ECONOMY_TYPES, EventType.REVERSAL)
)


def standing_events(user_id: int) -> QuerySet[UserActivity]:
    """A user's events that still stand: not reversals, and not cancelled by one (I8)."""
    return UserActivity.objects.filter(user_id=user_id, reversed_by__isnull=True).exclude(
        event_type=EventType.REVERSAL
    )
