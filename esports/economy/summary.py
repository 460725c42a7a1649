"""A player's coins earned and spent, by reason, read from their coin events.

It lives beside the translator that writes the ``reason`` it groups by (``activity.py``); the
ledger knows coin amounts, not why coins moved (DESIGN.md, layer rule 1).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import CharField, F, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce

from ledger.models import EventType
from ledger.routing import replica_read
from ledger.selectors import ECONOMY_TYPES, standing_events


@dataclass(frozen=True, slots=True)
class ReasonTotal:
    reason: str
    earned: int
    spent: int


@dataclass(frozen=True, slots=True)
class EconomySummary:
    earned: int
    spent: int
    by_reason: list[ReasonTotal] = field(default_factory=list)

    @property
    def net(self) -> int:
        return self.earned - self.spent


@replica_read
def economy_summary(*, user_id: int) -> EconomySummary:
    """Coins earned and spent, in total and by reason, from the coin events that still stand."""
    grouped = (
        standing_events(user_id)
        .filter(event_type__in=ECONOMY_TYPES)
        .annotate(
            reason=Coalesce(KT("metadata__reason"), F("event_type"), output_field=CharField())
        )
        .values("reason", "event_type")
        .annotate(total=Sum("amount"))
        .order_by("reason")
    )
    earned_by: dict[str, int] = defaultdict(int)
    spent_by: dict[str, int] = defaultdict(int)
    for row in grouped:
        target = earned_by if row["event_type"] == EventType.COINS_EARNED else spent_by
        target[row["reason"]] += int(row["total"] or 0)
    reasons = sorted(set(earned_by) | set(spent_by))
    return EconomySummary(
        earned=sum(earned_by.values()),
        spent=sum(spent_by.values()),
        by_reason=[ReasonTotal(r, earned_by.get(r, 0), spent_by.get(r, 0)) for r in reasons],
    )
