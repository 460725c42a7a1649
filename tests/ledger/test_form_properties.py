"""Property tests of streaks and recent form (issue 17 part 2): after any history of matches
decided, corrected, forfeited, disputed and reset, in any order of match times, the streaks
and recent results equal what the player's own events say (and, with no dispute pending, what
the matches say); recent results list forfeits as such."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esports.tournaments.models import Match, Registration
from ledger.models import EventType, UserActivity
from ledger.selectors import recent_results, streaks_by_user
from tests.esports.scenario import assert_stats_fold_everywhere, decide
from tests.factories import MatchFactory, RegistrationFactory, TournamentFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 2, 1, tzinfo=UTC)


def _runs(outcomes: list[bool]) -> tuple[int, int]:
    """(current, longest) win streak, counted as runs of W between Ls: a second way to count."""
    runs = "".join("W" if won else "L" for won in outcomes).split("L")
    return len(runs[-1]), max(len(run) for run in runs)


def _from_events(user: Any) -> list[tuple[datetime, int, bool]]:
    """The user's decided matches from their events in the order recorded: an outcome stands
    until a reversal names it. (match time, match id, won), in match order."""
    standing: dict[int, tuple[datetime, int, int, bool]] = {}
    for event in UserActivity.objects.filter(user=user).order_by("id"):
        if event.event_type in (EventType.MATCH_WON, EventType.MATCH_LOST):
            won = event.event_type == EventType.MATCH_WON
            standing[event.pk] = (event.timestamp, event.source_id, event.pk, won)
        elif event.event_type == EventType.REVERSAL:
            standing.pop(event.reverses_id or 0, None)
    return [(at, match_id, won) for at, match_id, _, won in sorted(standing.values())]


def _played_from_events(user: Any) -> list[tuple[datetime, int, str]]:
    """The user's matches played to a result, newest first, from their events in the order
    recorded: (match time, match id, outcome); a played match with no standing outcome is a
    forfeit."""
    played: dict[int, tuple[datetime, int, int]] = {}
    for event in UserActivity.objects.filter(user=user).order_by("id"):
        if event.event_type == EventType.MATCH_PLAYED:
            played[event.pk] = (event.timestamp, event.source_id, event.pk)
        elif event.event_type == EventType.REVERSAL:
            played.pop(event.reverses_id or 0, None)
    outcome = {match_id: "won" if won else "lost" for _, match_id, won in _from_events(user)}
    rows = sorted(played.values(), reverse=True)
    return [(at, match_id, outcome.get(match_id, "forfeit")) for at, match_id, _ in rows]


def _from_matches(side: Registration) -> list[bool]:
    matches = Match.objects.filter(state=Match.State.COMPLETED).order_by("completed_at", "pk")
    return [
        m.winner_id == side.pk for m in matches if side.pk in (m.participant1_id, m.participant2_id)
    ]


Action = Callable[[list[Match], Registration, Registration, int, int], None]


def play(matches: list[Match], ann: Registration, bob: Registration, a: int, b: int) -> None:
    match = MatchFactory.create(participant1=ann, participant2=bob)
    winner = ann if b % 2 else bob
    at = T0 + timedelta(minutes=a * 7 + b)  # match times out of creation order
    matches.append(decide(match, winner=winner, at=at))


def _on_match(change: Callable[[Match, Registration, Registration, int], None]) -> Action:
    def act(matches: list[Match], ann: Registration, bob: Registration, a: int, b: int) -> None:
        if matches:
            change(matches[a % len(matches)], ann, bob, b)

    act.__name__ = change.__name__
    return act


def correct(match: Match, ann: Registration, bob: Registration, b: int) -> None:
    at = match.completed_at or T0 + timedelta(minutes=b)
    decide(match, winner=bob if match.winner_id == ann.pk else ann, at=at)


def forfeit(match: Match, ann: Registration, bob: Registration, b: int) -> None:
    at = match.completed_at or T0 + timedelta(minutes=b)
    decide(match, winner=ann if b % 2 else bob, state=Match.State.FORFEIT, at=at)


def dispute(match: Match, ann: Registration, bob: Registration, b: int) -> None:
    match.state = Match.State.DISPUTED
    match.save()


def settle(match: Match, ann: Registration, bob: Registration, b: int) -> None:
    at = match.completed_at or T0 + timedelta(minutes=b)
    decide(match, winner=ann if b % 2 else bob, at=at)


ACTIONS: list[Action] = [
    play,
    play,
    play,
    _on_match(correct),
    _on_match(correct),
    _on_match(forfeit),
    _on_match(dispute),
    _on_match(settle),
]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    actions=st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.integers(0, 20), st.integers(0, 20)),
        min_size=3,
        max_size=25,
    )
)
def test_streaks_and_recent_results_equal_the_players_own_events(
    actions: list[tuple[Action, int, int]],
) -> None:
    with transaction.atomic():
        ann_user, bob_user = UserFactory.create(), UserFactory.create()
        tournament = TournamentFactory.create(game="valorant")
        ann = RegistrationFactory.create(tournament=tournament, user=ann_user)
        bob = RegistrationFactory.create(tournament=tournament, user=bob_user)
        matches: list[Match] = []
        for act, a, b in actions:
            try:
                with transaction.atomic():
                    act(matches, ann, bob, a, b)
            except (ValidationError, IntegrityError):
                pass

        streaks = streaks_by_user(user_ids=[ann_user.pk, bob_user.pk])
        for user, side in ((ann_user, ann), (bob_user, bob)):
            decided = _from_events(user)
            outcomes = [won for _, _, won in decided]
            assert (streaks[user.pk].current, streaks[user.pk].longest) == _runs(outcomes)
            recent = recent_results(user_id=user.pk, last=5)
            newest = _played_from_events(user)[:5]
            assert [(r.timestamp, r.match_id, r.outcome) for r in recent] == newest
            if not Match.objects.filter(state=Match.State.DISPUTED).exists():
                assert outcomes == _from_matches(side)
        assert_stats_fold_everywhere()
        transaction.set_rollback(True)
