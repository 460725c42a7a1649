"""Win streaks and recent form: a player's matches in the order the matches were played.

Computed on read from the ``(user, event_type, timestamp)`` index (decision 0021): the decided
matches are the player's standing ``match_won`` and ``match_lost`` events, whose timestamp is the
match's. A forfeit records neither, so it neither extends nor breaks a streak; a corrected result
stands as its final outcome at its match's place in time, however long after it came.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from ledger.models import EventType, UserActivity

DECIDED: tuple[str, ...] = (EventType.MATCH_WON, EventType.MATCH_LOST)
MATCH_ORDER = ("timestamp", "source_id", "id")
"""The order of decided matches: the match's time, then its row (matches at the same moment)."""


@dataclass(frozen=True, slots=True)
class Streaks:
    current: int
    longest: int


@dataclass(frozen=True, slots=True)
class PlayedMatch:
    """One match a player played to a result: how it ended for them (``won``, ``lost`` or
    ``forfeit``), when, in which game, and the match's id as its events recorded it."""

    outcome: str
    timestamp: datetime
    game: str | None
    match_id: int | None


def streaks_of(outcomes: Iterable[bool]) -> Streaks:
    """The win streak at the end of ``outcomes`` (oldest first), and the longest one in them."""
    current = longest = 0
    for won in outcomes:
        current = current + 1 if won else 0
        longest = max(longest, current)
    return Streaks(current, longest)


def decided_matches(
    *, user_ids: Collection[int], game: str | None = None
) -> QuerySet[UserActivity]:
    """The players' standing match outcomes (of one game, with ``game``)."""
    events = UserActivity.objects.filter(
        user_id__in=list(user_ids), event_type__in=DECIDED, reversed_by__isnull=True
    )
    return events if game is None else events.filter(metadata__game=game)


def streaks_by_user(*, user_ids: Collection[int], game: str | None = None) -> dict[int, Streaks]:
    """Each player's streaks (in one game, with ``game``), in one query; 0 and 0 without any."""
    outcomes: dict[int, list[bool]] = defaultdict(list)
    rows = (
        decided_matches(user_ids=user_ids, game=game)
        .order_by("user_id", *MATCH_ORDER)
        .values_list("user_id", "event_type")
    )
    for user_id, event_type in rows:
        assert user_id is not None
        outcomes[user_id].append(event_type == EventType.MATCH_WON)
    return {user_id: streaks_of(outcomes.get(user_id, ())) for user_id in user_ids}


def recent_results(*, user_id: int, last: int) -> list[PlayedMatch]:
    """The player's ``last`` matches played to a result, newest first (their standing
    ``match_played`` events, on the same index), each with its standing outcome; a match with
    none is a forfeit. Two queries."""
    played = list(
        UserActivity.objects.filter(
            user_id=user_id, event_type=EventType.MATCH_PLAYED, reversed_by__isnull=True
        )
        .order_by(*(f"-{name}" for name in MATCH_ORDER))
        .values_list("timestamp", "source_model", "source_id", "metadata")[:last]
    )
    outcomes = dict(
        (((source_model, source_id), kind))
        for kind, source_model, source_id in decided_matches(user_ids=[user_id])
        .filter(source_id__in=[source_id for _, _, source_id, _ in played])
        .values_list("event_type", "source_model", "source_id")
    )
    results = []
    for at, source_model, source_id, metadata in played:
        kind = outcomes.get((source_model, source_id))
        outcome = "forfeit" if kind is None else "won" if kind == EventType.MATCH_WON else "lost"
        game, match_id = metadata.get("game"), metadata.get("match_id")
        results.append(
            PlayedMatch(
                outcome,
                at,
                game if isinstance(game, str) else None,
                match_id if isinstance(match_id, int) else None,
            )
        )
    return results
