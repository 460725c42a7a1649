"""The fold: what each event adds to a user's stats (DESIGN.md, "The fold")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from ledger.models.activity import EventType
from ledger.models.stats import COUNTER_FIELDS

AMOUNT = "amount"
"""Stands for the event's coin amount in a delta table."""

EVENT_DELTAS: Mapping[str, Mapping[str, int | str]] = {
    EventType.TOURNAMENT_REGISTERED: {"tournaments_registered": 1},
    EventType.TOURNAMENT_JOINED: {"tournaments_played": 1},
    EventType.TOURNAMENT_COMPLETED: {"tournaments_completed": 1},
    EventType.TOURNAMENT_WON: {"tournaments_won": 1},
    EventType.TOURNAMENT_RUNNER_UP: {"tournaments_runner_up": 1},
    EventType.TOURNAMENT_TOP4: {"tournaments_top4": 1},
    EventType.MATCH_PLAYED: {"matches_played": 1},
    EventType.MATCH_WON: {"matches_won": 1},
    EventType.MATCH_LOST: {"matches_lost": 1},
    EventType.COINS_EARNED: {"total_earned": AMOUNT},
    EventType.COINS_SPENT: {"total_spent": AMOUNT},
    EventType.ACHIEVEMENT_UNLOCKED: {"achievements_count": 1},
    EventType.TEAM_CREATED: {"teams_created": 1},
    EventType.TEAM_JOINED: {"teams_joined": 1, "current_teams_count": 1},
    EventType.TEAM_LEFT: {"current_teams_count": -1},
}


def event_deltas(event_type: str, *, amount: int = 0, sign: int = 1) -> dict[str, int]:
    """The counter deltas of one event; a reversal passes its target's type with sign -1."""
    deltas: dict[str, int] = {}
    for field, step in EVENT_DELTAS[event_type].items():
        deltas[field] = sign * (amount if step == AMOUNT else int(step))
    return deltas


@dataclass(slots=True)
class StatsDelta:
    """The summed effect of a batch of events on one user's stats."""

    counters: dict[str, int]
    last_activity_at: datetime | None = None

    @classmethod
    def zero(cls) -> StatsDelta:
        return cls(counters=dict.fromkeys(COUNTER_FIELDS, 0))

    def add(self, deltas: Mapping[str, int], timestamp: datetime) -> None:
        for field, value in deltas.items():
            self.counters[field] += value
        if self.last_activity_at is None or timestamp > self.last_activity_at:
            self.last_activity_at = timestamp


@dataclass(frozen=True, slots=True)
class KindTotal:
    """One group of a user's events for recompute: how many (net of reversals) and their amount."""

    event_type: str
    net_count: int
    net_amount: int


def fold_totals(totals: Iterable[KindTotal]) -> dict[str, int]:
    """Fold grouped event totals into counters: the same arithmetic as the live path."""
    counters = dict.fromkeys(COUNTER_FIELDS, 0)
    for total in totals:
        for field, step in EVENT_DELTAS[total.event_type].items():
            counters[field] += total.net_amount if step == AMOUNT else int(step) * total.net_count
    return counters
