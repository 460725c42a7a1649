"""Streaks and recent results across the archive (decision 0027): after one or two archive runs
at any horizons, every player's streaks (lifetime and per game) and recent results equal those
of their matches as played, as they did before anything was archived."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esports.tournaments.models import Match, Registration
from ledger.archive.form import rebuild_archived_form
from ledger.models import RecentResultsBaseline, StreakBaseline
from ledger.operations.archive import archive_activity
from ledger.operations.gdpr import anonymize_user
from ledger.operations.reconcile import reconcile_stats
from ledger.selectors import Streaks, recent_results, streaks_by_user
from ledger.selectors.form import RUNS_FIELDS
from tests.esports.scenario import decide
from tests.factories import MatchFactory, RegistrationFactory, TournamentFactory, UserFactory

pytestmark = pytest.mark.django_db

GAMES = ("valorant", "cs2")
MONTHS = (1, 2, 3, 4, 5, 6)
"""Matches are played in these months of 2023, and in November 2026 (stays hot)."""
HOT = 0


@dataclass(frozen=True)
class Played:
    month: int
    day: int
    hour: int
    ann_wins: bool
    forfeit: bool
    game: str
    corrected: int | None
    """Days after the match its winner was changed (its reversal's month may be a later one)."""


def _at(month: int, day: int, hour: int) -> datetime:
    if month == HOT:
        return datetime(2026, 11, day, hour, tzinfo=UTC)
    return datetime(2023, month, day, hour, tzinfo=UTC)


class Players:
    """Ann and Bob, registered in a tournament of each game."""

    def __init__(self) -> None:
        self.ann, self.bob = UserFactory.create(), UserFactory.create()
        self.sides: dict[str, tuple[Registration, Registration]] = {}
        for game in GAMES:
            tournament = TournamentFactory.create(game=game)
            self.sides[game] = (
                RegistrationFactory.create(tournament=tournament, user=self.ann),
                RegistrationFactory.create(tournament=tournament, user=self.bob),
            )

    def play(self, played: Played) -> None:
        ann, bob = self.sides[played.game]
        at = _at(played.month, played.day, played.hour)
        match = MatchFactory.create(participant1=ann, participant2=bob)
        state = Match.State.FORFEIT if played.forfeit else Match.State.COMPLETED
        decide(match, winner=ann if played.ann_wins else bob, state=state, at=at)
        if played.corrected is not None:
            later = at + timedelta(days=played.corrected)
            with mock.patch("django.utils.timezone.now", return_value=later):
                decide(match, winner=bob if played.ann_wins else ann, at=at)

    def seen(self) -> dict[str, Any]:
        """Everything the reads say of both players."""
        users = [self.ann.pk, self.bob.pk]
        seen: dict[str, Any] = {"all": streaks_by_user(user_ids=users)}
        for game in GAMES:
            seen[game] = streaks_by_user(user_ids=users, game=game)
        for user_id in users:
            for last in (3, 100):
                seen[f"recent {user_id} {last}"] = [
                    (r.outcome, r.timestamp, r.game, r.match_id)
                    for r in recent_results(user_id=user_id, last=last)
                ]
        return seen

    def from_matches(self) -> dict[str, Any]:
        """The same, from the matches as they stand, in the order they were played."""
        matches = list(
            Match.objects.filter(state__in=(Match.State.COMPLETED, Match.State.FORFEIT))
            .select_related("tournament")
            .order_by("completed_at", "pk")
        )
        found: dict[str, Any] = {}
        for game in (None, *GAMES):
            found[game or "all"] = {
                user.pk: _streaks(
                    [
                        m.winner.user_id == user.pk
                        for m in matches
                        if m.state == Match.State.COMPLETED and game in (None, m.tournament.game)
                    ]
                )
                for user in (self.ann, self.bob)
            }
        for user in (self.ann, self.bob):
            rows = [
                (
                    "forfeit"
                    if m.state == Match.State.FORFEIT
                    else "won"
                    if m.winner.user_id == user.pk
                    else "lost",
                    m.completed_at,
                    m.tournament.game,
                    m.pk,
                )
                for m in reversed(matches)
            ]
            for last in (3, 100):
                found[f"recent {user.pk} {last}"] = rows[:last]
        return found


def _streaks(outcomes: list[bool]) -> Streaks:
    """Runs of wins between losses: a second way to count."""
    runs = "".join("W" if won else "L" for won in outcomes).split("L")
    return Streaks(current=len(runs[-1]), longest=max(len(run) for run in runs))


played_matches = st.builds(
    Played,
    month=st.sampled_from((HOT, *MONTHS)),
    day=st.integers(1, 28),
    hour=st.integers(0, 23),
    ann_wins=st.booleans(),
    forfeit=st.sampled_from((False, False, False, True)),
    game=st.sampled_from(GAMES),
    corrected=st.sampled_from((None, None, 1, 25)),
)
horizons = st.lists(st.integers(1, 8), min_size=1, max_size=2).map(sorted)
"""Archive runs, each before the first day of a month of 2023 (8: August, all of them)."""


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(matches=st.lists(played_matches, min_size=1, max_size=14), runs=horizons)
def test_streaks_and_recent_results_survive_archive_runs(
    matches: list[Played], runs: list[int]
) -> None:
    with transaction.atomic(), tempfile.TemporaryDirectory() as directory:
        players = Players()
        for played in matches:
            players.play(played)
        before = players.seen()
        assert before == players.from_matches()

        with override_settings(LEDGER_ARCHIVE_DIR=directory):
            for month in runs:
                archive_activity(before=date(2023, month, 1))
                assert players.seen() == before
            kept = _baselines()
            rebuild_archived_form(user_ids=[players.ann.pk, players.bob.pk])  # from the files
            assert _baselines() == kept

        transaction.set_rollback(True)


def _baselines() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    runs = StreakBaseline.objects.order_by("user_id", "game", "month")
    kept = RecentResultsBaseline.objects.order_by("user_id")
    return (
        list(runs.values_list("user_id", "game", "month", *RUNS_FIELDS)),
        list(kept.values_list("user_id", "results")),
    )


def test_a_streak_across_the_horizon_and_two_runs_newest_month_first(archive_dir: Any) -> None:
    players = Players()
    # Ann: Jan W W L W, Feb W W (a forfeit), Mar W L, Nov 2026 W W: a run of four across Feb
    plan = [(1, True), (1, True), (1, False), (1, True), (2, True), (2, True), (3, True)]
    plan += [(3, False), (HOT, True), (HOT, True)]
    for day, (month, ann_wins) in enumerate(plan, 1):
        players.play(Played(month, day, 12, ann_wins, False, GAMES[day % 2], None))
    players.play(Played(2, 27, 12, True, True, "cs2", None))
    before = players.seen()
    assert before["all"][players.ann.pk] == Streaks(current=2, longest=4)

    archive_activity(before=date(2023, 3, 1))  # January and February
    assert players.seen() == before
    archive_activity(before=date(2023, 4, 1))  # March, newer than the baselines so far
    assert players.seen() == before
    lifetime = StreakBaseline.objects.filter(user_id=players.ann.pk, game="").order_by("month")
    assert [
        (r.month.month, r.decided, r.won, r.leading, r.trailing, r.longest) for r in lifetime
    ] == [
        (1, 4, 3, 2, 1, 2),
        (2, 2, 2, 2, 2, 2),
        (3, 2, 1, 1, 0, 1),
    ]
    kept = RecentResultsBaseline.objects.get(user_id=players.ann.pk).results
    assert [r[3] for r in kept] == [
        "lost",
        "won",
        "forfeit",
        "won",
        "won",
        "won",
        "lost",
        "won",
        "won",
    ]

    assert not reconcile_stats().found_problems

    anonymize_user(user=players.ann)

    assert not StreakBaseline.objects.filter(user_id=players.ann.pk).exists()
    assert not RecentResultsBaseline.objects.filter(user_id=players.ann.pk).exists()
    assert StreakBaseline.objects.filter(user_id=players.bob.pk).exists()


def test_reconcile_finds_form_baselines_that_disagree_and_rebuilds_them(archive_dir: Any) -> None:
    players = Players()
    for day in range(1, 8):
        players.play(Played(1 + day % 3, day, 12, day != 4, day == 6, GAMES[day % 2], None))
    before = players.seen()
    archive_activity(before=date(2023, 4, 1))
    kept = _baselines()
    StreakBaseline.objects.filter(user_id=players.ann.pk, game="").update(won=0)
    RecentResultsBaseline.objects.filter(user_id=players.bob.pk).delete()  # as before 0027

    report = reconcile_stats()

    drifted = {(row.key, tuple(f.field for f in row.fields)) for row in report.drifted_rows}
    assert drifted == {((players.ann.pk, ""), ("won",)), ((players.bob.pk, ""), ("kept",))}
    expected_kept = next(f for f in report.drifted_rows if f.key[0] == players.bob.pk).fields[0]
    assert (expected_kept.expected, expected_kept.current) == (7, 0)

    report = reconcile_stats(fix=True)

    assert report.fixed_rows == 2
    assert _baselines() == kept
    assert players.seen() == before
    assert not reconcile_stats().found_problems


def test_the_reads_cost_the_same_few_queries_however_much_was_archived(archive_dir: Any) -> None:
    players = Players()
    for day in range(1, 13):
        players.play(Played(1 + day % 4, day, 12, day % 3 != 0, False, GAMES[day % 2], None))
    players.play(Played(HOT, 1, 12, True, False, "cs2", None))
    archive_activity(before=date(2023, 6, 1))
    users = [players.ann.pk, players.bob.pk]

    with CaptureQueriesContext(connection) as queries:
        streaks_by_user(user_ids=users, game="cs2")
    assert len(queries) == 2  # the archived months' runs, the hot matches
    with CaptureQueriesContext(connection) as queries:
        assert len(recent_results(user_id=players.ann.pk, last=1)) == 1
    assert len(queries) == 2  # the hot list is long enough: the archived one is not read
    with CaptureQueriesContext(connection) as queries:
        assert len(recent_results(user_id=players.ann.pk, last=100)) == 13
    assert len(queries) == 3


def test_a_match_recorded_into_an_archived_month_goes_with_its_second_part(
    archive_dir: Any,
) -> None:
    players = Players()
    for day, ann_wins in ((1, True), (3, True), (5, False)):
        players.play(Played(1, day, 12, ann_wins, False, "cs2", None))
    archive_activity(before=date(2023, 2, 1))
    players.play(Played(1, 2, 12, False, False, "cs2", None))  # a backfill of an old match
    hot = players.seen()  # the late match counts after the archived ones, until archived

    archive_activity(before=date(2023, 2, 1))  # January's second part

    assert players.seen() == hot
    january = StreakBaseline.objects.get(user_id=players.ann.pk, game="", month=date(2023, 1, 1))
    assert (january.decided, january.won, january.leading, january.trailing) == (4, 2, 2, 0)
    assert january.longest == 2  # W W L, then the second part's L: composed, not re-sorted
    assert not reconcile_stats().found_problems
    assert [r.timestamp.day for r in recent_results(user_id=players.ann.pk, last=4)] == [
        5,
        3,
        2,
        1,
    ]
