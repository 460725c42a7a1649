"""Win streaks and recent form: a player's matches in the order the matches were played.

Computed on read from the ``(user, event_type, timestamp)`` index (decision 0021): the decided
matches are the player's standing ``match_won`` and ``match_lost`` events, whose timestamp is the
match's. A forfeit records neither, so it neither extends nor breaks a streak; a corrected result
stands as its final outcome at its match's place in time, however long after it came.

Archived matches count through their baselines (decision 0027): the runs of each archived month
(``StreakBaseline``), composed oldest first before the runs of the hot matches, and the newest
archived results (``RecentResultsBaseline``) after the hot ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from operator import itemgetter
from typing import Any

from django.db.models import QuerySet

from ledger.models import EventType, RecentResultsBaseline, StreakBaseline, UserActivity

DECIDED: tuple[str, ...] = (EventType.MATCH_WON, EventType.MATCH_LOST)
MATCH_ORDER = ("timestamp", "source_id", "id")
"""The order of decided matches: the match's time, then its row (matches at the same moment)."""
RECENT_KEPT = 100
"""The most recent results a read may ask for, and so how many archived ones are kept."""


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

    @classmethod
    def of(cls, outcome: str, at: datetime, metadata: Mapping[str, Any]) -> PlayedMatch:
        """The match as its ``match_played`` event's metadata names it."""
        game, match_id = metadata.get("game"), metadata.get("match_id")
        return cls(
            outcome,
            at,
            game if isinstance(game, str) else None,
            match_id if isinstance(match_id, int) else None,
        )


@dataclass(frozen=True, slots=True)
class Runs:
    """The win runs of a sequence of decided matches, as much as it takes to compose them with
    the runs of the matches after it (a monoid under ``then``, ``Runs()`` its unit): the runs of
    the archived months and of the hot matches make the runs of them all."""

    decided: int = 0
    won: int = 0
    leading: int = 0
    """Wins before the first loss."""
    trailing: int = 0
    """Wins after the last loss: the current streak."""
    longest: int = 0

    def then(self, after: Runs) -> Runs:
        """The runs of these matches followed by ``after``'s."""
        return Runs(
            decided=self.decided + after.decided,
            won=self.won + after.won,
            leading=self.leading + after.leading if self.won == self.decided else self.leading,
            trailing=after.trailing + self.trailing
            if after.won == after.decided
            else after.trailing,
            longest=max(self.longest, after.longest, self.trailing + after.leading),
        )

    @property
    def streaks(self) -> Streaks:
        return Streaks(self.trailing, self.longest)


RUNS_FIELDS = tuple(field.name for field in fields(Runs))


def runs_of(outcomes: Iterable[bool]) -> Runs:
    """The runs of ``outcomes`` (won or not, oldest first)."""
    decided = won = leading = current = longest = 0
    for win in outcomes:
        decided += 1
        if not win:
            current = 0
            continue
        won += 1
        current += 1
        longest = max(longest, current)
        if won == decided:
            leading = won
    return Runs(decided, won, leading, current, longest)


def streaks_of(outcomes: Iterable[bool]) -> Streaks:
    """The win streak at the end of ``outcomes`` (oldest first), and the longest one in them."""
    return runs_of(outcomes).streaks


def decided_matches(
    *, user_ids: Collection[int], game: str | None = None
) -> QuerySet[UserActivity]:
    """The players' standing match outcomes (of one game, with ``game``)."""
    events = UserActivity.objects.filter(
        user_id__in=list(user_ids), event_type__in=DECIDED, reversed_by__isnull=True
    )
    return events if game is None else events.filter(metadata__game=game)


def archived_runs(*, user_ids: Collection[int], game: str | None = None) -> dict[int, Runs]:
    """The runs of each player's archived matches (of one game, with ``game``), from their
    monthly baselines composed oldest first, in one query; players without any are left out."""
    found: dict[int, Runs] = {}
    rows = (
        StreakBaseline.objects.filter(user_id__in=list(user_ids), game=game or "")
        .order_by("user_id", "month")
        .values_list("user_id", *RUNS_FIELDS)
    )
    for user_id, *month in rows:
        found[user_id] = found.get(user_id, Runs()).then(Runs(*month))
    return found


def streaks_by_user(*, user_ids: Collection[int], game: str | None = None) -> dict[int, Streaks]:
    """Each player's streaks (in one game, with ``game``): the runs of their archived matches,
    then of their hot ones, in two queries; 0 and 0 without any."""
    archived = archived_runs(user_ids=user_ids, game=game)
    outcomes: dict[int, list[bool]] = defaultdict(list)
    rows = (
        decided_matches(user_ids=user_ids, game=game)
        .order_by("user_id", *MATCH_ORDER)
        .values_list("user_id", "event_type")
    )
    for user_id, event_type in rows:
        assert user_id is not None
        outcomes[user_id].append(event_type == EventType.MATCH_WON)
    return {
        user_id: archived.get(user_id, Runs()).then(runs_of(outcomes.get(user_id, ()))).streaks
        for user_id in user_ids
    }


def recent_results(*, user_id: int, last: int) -> list[PlayedMatch]:
    """The player's ``last`` matches played to a result, newest first (their standing
    ``match_played`` events, on the same index), each with its standing outcome; a match with
    none is a forfeit. Two queries; a third, by key, when the hot matches are fewer than
    ``last``: the newest archived ones, merged in by match order (a match recorded into a month
    after the month was archived is hot, yet older than archived ones)."""
    played = list(
        UserActivity.objects.filter(
            user_id=user_id, event_type=EventType.MATCH_PLAYED, reversed_by__isnull=True
        )
        .order_by(*(f"-{name}" for name in MATCH_ORDER))
        .values_list("timestamp", "source_model", "source_id", "id", "metadata")[:last]
    )
    outcomes = dict(
        (((source_model, source_id), kind))
        for kind, source_model, source_id in decided_matches(user_ids=[user_id])
        .filter(source_id__in=[source_id for _, _, source_id, _, _ in played])
        .values_list("event_type", "source_model", "source_id")
    )
    results = [
        (
            (at, source_id, pk),
            PlayedMatch.of(outcome_of(outcomes.get((source_model, source_id))), at, metadata),
        )
        for at, source_model, source_id, pk, metadata in played
    ]
    if len(results) < last:
        results += archived_results(user_id=user_id)
        results.sort(key=itemgetter(0), reverse=True)
    return [match for _, match in results[:last]]


def outcome_of(kind: str | None) -> str:
    """A played match's outcome for the player, from their standing decided event's type."""
    return "forfeit" if kind is None else "won" if kind == EventType.MATCH_WON else "lost"


def archived_results(*, user_id: int) -> list[tuple[tuple[datetime, int, int], PlayedMatch]]:
    """The player's newest archived matches played to a result, newest first, each with its
    place in match order (the time, the match row, the event)."""
    kept = (
        RecentResultsBaseline.objects.filter(user_id=user_id)
        .values_list("results", flat=True)
        .first()
    )
    return [
        (
            (datetime.fromisoformat(at), source_id, pk),
            PlayedMatch(outcome, datetime.fromisoformat(at), game, match_id),
        )
        for at, source_id, pk, outcome, game, match_id in kept or ()
    ]
