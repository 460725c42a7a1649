"""The fold: what each event adds to a user's stats (DESIGN.md, "The fold")."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ledger.counters import COUNTER_FIELDS
from ledger.drafts import NewEvent
from ledger.models.activity import EventType

Key = tuple[int | str, ...]
"""The values of a projection row's key columns, in their order (a user's stats: their id)."""

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


def new_event_deltas(event: NewEvent) -> dict[str, int]:
    """The counter deltas of an event about to be recorded (a reversal: its target's, negated)."""
    if event.event_type == EventType.REVERSAL:
        assert event.reversed_type is not None, "a reversal must name the type it cancels"
        return event_deltas(event.reversed_type, amount=event.amount, sign=-1)
    return event_deltas(event.event_type, amount=event.amount)


@dataclass(slots=True)
class Delta:
    """The summed effect of a batch of events on one row of a projection: what each counter
    gains (or loses), and the latest timestamp among the events."""

    counters: dict[str, int]
    latest: datetime | None = None

    def add(self, deltas: Mapping[str, int], timestamp: datetime) -> None:
        for field, value in deltas.items():
            self.counters[field] += value
        if self.latest is None or timestamp > self.latest:
            self.latest = timestamp

    @property
    def adds_only(self) -> bool:
        return all(value >= 0 for value in self.counters.values())


def fold_lifetime_stats(events: Sequence[NewEvent]) -> dict[Key, Delta]:
    """Sum the deltas of ``events`` (exactly the inserted ones) per user."""
    per_user: dict[Key, Delta] = {}
    for event in events:
        key = (event.user_id,)
        if key not in per_user:
            per_user[key] = Delta(counters=dict.fromkeys(COUNTER_FIELDS, 0))
        per_user[key].add(new_event_deltas(event), event.timestamp)
    return per_user


def fold_by(
    events: Sequence[NewEvent],
    *,
    key: Callable[[NewEvent], Key | None],
    counters: Sequence[str],
) -> dict[Key, Delta]:
    """Sum the deltas of ``events`` into ``counters`` per ``key(event)``; an event without a key,
    or without a delta on these counters, is not folded (it touches no row)."""
    rows: dict[Key, Delta] = {}
    for event in events:
        row_key = key(event)
        if row_key is None:
            continue
        deltas = {
            name: value for name, value in new_event_deltas(event).items() if name in counters
        }
        if not deltas:
            continue
        if row_key not in rows:
            rows[row_key] = Delta(counters=dict.fromkeys(counters, 0))
        rows[row_key].add(deltas, event.timestamp)
    return rows


def game_of(metadata: Mapping[str, object]) -> str | None:
    """The game an event's metadata names (tournament and match events, and their reversals,
    which copy their target's metadata): where per-game stats file it."""
    game = metadata.get("game")
    return game if isinstance(game, str) and game else None


def opponents_of(metadata: Mapping[str, object]) -> list[int]:
    """The users a match event's player faced (``opponent_players``: ``{"user_id": …}`` each,
    so erasure scrubs them like any person it names); an erased opponent is skipped."""
    players = metadata.get("opponent_players")
    if not isinstance(players, list):
        return []
    found = []
    for player in players:
        user_id = player.get("user_id") if isinstance(player, dict) else None
        if isinstance(user_id, int) and not isinstance(user_id, bool):
            found.append(user_id)
    return found


def fold_per_opponent(events: Sequence[NewEvent], *, counters: Sequence[str]) -> dict[Key, Delta]:
    """Sum the deltas of match events into ``counters`` per (player, opponent faced); the latest
    timestamp is the latest match's (reversals, stamped when they were recorded, are not)."""
    rows: dict[Key, Delta] = {}
    for event in events:
        deltas = {
            name: value for name, value in new_event_deltas(event).items() if name in counters
        }
        if not deltas:
            continue
        for opponent_id in opponents_of(event.metadata):
            if opponent_id == event.user_id:
                continue
            key = (event.user_id, opponent_id)
            if key not in rows:
                rows[key] = Delta(counters=dict.fromkeys(counters, 0))
            row = rows[key]
            for name, step in deltas.items():
                row.counters[name] += step
            # The latest match, not the latest correction: a reversal moves no time forward.
            is_match = event.event_type != EventType.REVERSAL
            if is_match and (row.latest is None or event.timestamp > row.latest):
                row.latest = event.timestamp
    return rows


def achievement_of(metadata: Mapping[str, object]) -> str | None:
    """The achievement code an unlock event's metadata names (its reversal copies it)."""
    code = metadata.get("achievement_code")
    return code if isinstance(code, str) and code else None


def fold_unlocks(events: Sequence[NewEvent]) -> dict[Key, Delta]:
    """Holders per achievement code: +1 per unlock, -1 per reversed one."""
    rows: dict[Key, Delta] = {}
    for event in events:
        kind = event.reversed_type if event.event_type == EventType.REVERSAL else event.event_type
        code = achievement_of(event.metadata)
        if kind != EventType.ACHIEVEMENT_UNLOCKED or code is None:
            continue
        if (code,) not in rows:
            rows[(code,)] = Delta(counters={"holders": 0})
        rows[(code,)].add({"holders": -1 if kind != event.event_type else 1}, event.timestamp)
    return rows


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
