"""A generated platform history, and the same history with no events (for backfill tests).

``history_without_events`` is how a test gets "the platform before the ledger" honestly: it builds
the history live (receivers connected) inside a savepoint, dumps the platform's tables with
``dumpdata``, rolls the savepoint back (events and stats go with it) and loads the dump with
``loaddata``, which saves rows raw so no receiver records anything. Primary keys survive, so the
live events captured before the rollback compare one to one with the backfilled ones.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.db import transaction

from esports.teams.models import Team, TeamMembership
from esports.tournaments.models import Match, Registration, Tournament, TournamentResult
from ledger.counters import COUNTER_FIELDS, GAME_COUNTER_FIELDS
from ledger.models import EventType, UserActivity, UserGameStats, UserProfileStats
from tests.factories import (
    AchievementFactory,
    MatchFactory,
    RegistrationFactory,
    TournamentFactory,
    UnlockFactory,
    UserFactory,
    transaction_for,
)

PLATFORM_APPS = ("auth.user", "profiles", "economy", "teams", "tournaments", "achievements")
BASE = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return BASE + timedelta(hours=hours)


EventRow = tuple[str, int, str, int | None, datetime, str]


def event_rows(*, live_outcomes_only: bool = False) -> Counter[EventRow]:
    """The ledger's events as (source, source id, type, user, timestamp, metadata JSON).

    ``live_outcomes_only`` drops reversals and the events they reversed: what a backfill of the
    source tables as they stand now can know of.
    """
    events = UserActivity.objects.all()
    if live_outcomes_only:
        events = events.filter(reverses__isnull=True, reversed_by__isnull=True)
    return Counter(
        (source, source_id, kind, user_id, ts, json.dumps(metadata, sort_keys=True))
        for source, source_id, kind, user_id, ts, metadata in events.values_list(
            "source_model", "source_id", "event_type", "user_id", "timestamp", "metadata"
        )
    )


def counters() -> dict[int, dict[str, int]]:
    """Every stats row's counters (``last_activity_at`` aside)."""
    return {
        row["user_id"]: {name: row[name] for name in COUNTER_FIELDS}
        for row in UserProfileStats.objects.values("user_id", *COUNTER_FIELDS)
    }


@dataclass
class History:
    users: dict[str, Any]
    corrected_match_id: int
    no_show_registration_id: int


def build_history() -> History:
    """Three tournaments (solo and team), forfeits, a no-show, a corrected final, a member leaving,
    coins and achievements, saved in the order they happened, with historical timestamps."""
    names = ["ana", "ben", "cleo", "dev", "eli", "fay", "gus", "hal"]
    users = {name: UserFactory.create(username=f"{name}_h") for name in names}
    for name, user in users.items():
        user.profile.display_name = f"{name.title()} Display"
        user.profile.save()

    def member(team: Team, name: str, hours: float) -> TeamMembership:
        return TeamMembership.objects.create(team=team, user=users[name], joined_at=at(hours))

    team_a = Team.objects.create(name="Alphas", created_by=users["ana"], created_at=at(1))
    team_b = Team.objects.create(name="Bravos", created_by=users["dev"], created_at=at(1))
    member(team_a, "ben", 2)
    leaver = member(team_a, "cleo", 2)
    member(team_b, "eli", 2)
    member(team_b, "fay", 2)

    def register(tournament: Tournament, hours: float, **side: Any) -> Registration:
        return RegistrationFactory.create(
            tournament=tournament, created_at=at(hours), confirmed_at=at(hours), **side
        )

    def check_in(registration: Registration, hours: float) -> None:
        registration.checked_in, registration.checked_in_at = True, at(hours)
        registration.save()

    def play(
        p1: Registration,
        p2: Registration,
        winner: Registration,
        hours: float,
        state: str = Match.State.COMPLETED,
        **extra: Any,
    ) -> Match:
        match = MatchFactory.create(participant1=p1, participant2=p2, **extra)
        match.state, match.winner, match.completed_at = state, winner, at(hours)
        match.save()
        return match

    # Tournament 1: solo, entry fee, a forfeit, a no-show after check-in, a corrected final.
    cup = TournamentFactory.create(name="Spring Cup", entry_fee=10)
    solo = {name: register(cup, 3, user=users[name]) for name in ("ana", "ben", "gus", "hal")}
    for name, registration in solo.items():
        check_in(registration, 4)
        transaction_for(users[name], -10, "entry_fee", tournament=cup, created_at=at(3))
    play(solo["ana"], solo["ben"], solo["ana"], 5)
    play(solo["gus"], solo["hal"], solo["gus"], 5, state=Match.State.FORFEIT)
    no_show = solo["hal"]
    no_show.status = Registration.Status.NO_SHOW
    no_show.save()
    final = play(solo["ana"], solo["gus"], solo["gus"], 6, round=2)
    final.winner, final.loser = solo["ana"], solo["gus"]  # the referee corrects the final
    final.save()
    TournamentResult.objects.create(
        tournament=cup,
        winner=solo["ana"],
        runner_up=solo["gus"],
        third_place=solo["ben"],
        created_at=at(7),
    )
    transaction_for(users["ana"], 100, "winner", tournament=cup, created_at=at(7))
    first, second = AchievementFactory.create(), AchievementFactory.create()
    UnlockFactory.create(user=users["ana"], achievement=first, unlocked_at=at(8))
    UnlockFactory.create(user=users["ana"], achievement=second, unlocked_at=at(8))

    # Tournament 2: teams of three; a forfeit in round 2; the teams fan out to their members.
    league = TournamentFactory.create(name="Team League", team_size=3)
    side_a, side_b = (
        register(league, 10, team=team_a, user=None),
        register(league, 10, team=team_b, user=None),
    )
    check_in(side_a, 11)
    check_in(side_b, 11)
    play(side_a, side_b, side_b, 12)
    play(side_a, side_b, side_a, 13, round=2, state=Match.State.FORFEIT)
    TournamentResult.objects.create(
        tournament=league, winner=side_b, runner_up=side_a, created_at=at(14)
    )
    transaction_for(users["dev"], 300, "winner", tournament=league, created_at=at(14))
    leaver.left_at = at(15)
    leaver.save()
    UnlockFactory.create(user=users["dev"], achievement=first, unlocked_at=at(16))

    # Tournament 3: solo; one pending registration that stands for nothing yet.
    open_cup = TournamentFactory.create(name="Open Cup")
    cleo, dev = (
        register(open_cup, 20, user=users["cleo"]),
        register(open_cup, 20, user=users["dev"]),
    )
    RegistrationFactory.create(
        tournament=open_cup, user=users["fay"], status=Registration.Status.PENDING
    )
    check_in(cleo, 21)
    check_in(dev, 21)
    play(cleo, dev, cleo, 22)
    TournamentResult.objects.create(
        tournament=open_cup, winner=cleo, runner_up=dev, created_at=at(23)
    )
    return History(users=users, corrected_match_id=final.pk, no_show_registration_id=no_show.pk)


def game_counters() -> dict[tuple[int, str], dict[str, int]]:
    """Every per-game stats row's counters that are not all zero, by (user id, game)."""
    rows = UserGameStats.objects.values("user_id", "game", *GAME_COUNTER_FIELDS)
    found = {
        (row["user_id"], row["game"]): {name: row[name] for name in GAME_COUNTER_FIELDS}
        for row in rows
    }
    return {key: values for key, values in found.items() if any(values.values())}


@dataclass
class Live:
    """What live capture recorded: events (reversed outcomes and reversals aside), counters."""

    events: Counter[EventRow]
    counters: dict[int, dict[str, int]]
    reversals: int
    games: dict[tuple[int, str], dict[str, int]]


def history_without_events(build: Callable[[], Any]) -> tuple[Any, Live]:
    """Run ``build`` live and keep what it recorded, then leave only its platform rows."""
    savepoint = transaction.savepoint()
    built = build()
    live = Live(
        events=event_rows(live_outcomes_only=True),
        counters=counters(),
        reversals=UserActivity.objects.filter(event_type=EventType.REVERSAL).count(),
        games=game_counters(),
    )
    with tempfile.TemporaryDirectory() as directory:
        dump = Path(directory) / "platform.json"
        call_command("dumpdata", *PLATFORM_APPS, output=str(dump), verbosity=0)
        transaction.savepoint_rollback(savepoint)
        assert not UserActivity.objects.exists()
        call_command("loaddata", str(dump), verbosity=0)
    assert not UserActivity.objects.exists()
    return built, live


__all__ = [
    "EventType",
    "History",
    "at",
    "build_history",
    "counters",
    "event_rows",
    "game_counters",
]
