"""Streaks under concurrent saves on PostgreSQL: real threads correct and decide one player's
matches at once; afterwards the streaks and every projection equal the events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from esports.tournaments.models import Match
from ledger.selectors import streaks_by_user
from tests.esports.scenario import (
    assert_games_sum_to_lifetime,
    assert_stats_fold_everywhere,
    decide,
    run_in_threads,
)
from tests.factories import MatchFactory, RegistrationFactory, TournamentFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

T0 = datetime(2026, 2, 1, tzinfo=UTC)


def test_concurrent_corrections_of_one_players_matches() -> None:
    ann, bob = UserFactory.create(), UserFactory.create()
    tournament = TournamentFactory.create(game="valorant")
    ann_side = RegistrationFactory.create(tournament=tournament, user=ann)
    bob_side = RegistrationFactory.create(tournament=tournament, user=bob)
    matches = []
    for i in range(8):  # Ann loses all eight, then threads hand her the odd ones at once
        match = MatchFactory.create(participant1=ann_side, participant2=bob_side, round=i + 1)
        matches.append(decide(match, winner=bob_side, at=T0 + timedelta(hours=i)).pk)
    assert streaks_by_user(user_ids=[ann.pk])[ann.pk].longest == 0

    def correct(i: int) -> None:
        match = Match.objects.get(pk=matches[i])
        if i % 2:
            decide(match, winner=match.participant1)  # a correction, long after
        elif i == 4:
            decide(match, winner=match.participant1, state=Match.State.FORFEIT)
        else:
            decide(match, winner=match.participant2)  # saved again, unchanged

    assert run_in_threads(correct, 8) == []

    # Ann, in match order: L W L W (forfeit) W L W
    streaks = streaks_by_user(user_ids=[ann.pk, bob.pk])
    assert (streaks[ann.pk].current, streaks[ann.pk].longest) == (1, 2)
    assert (streaks[bob.pk].current, streaks[bob.pk].longest) == (0, 1)
    assert_stats_fold_everywhere()
    assert_games_sum_to_lifetime()
