"""The write path end to end through a match, on whichever database the run uses."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.models import EventType, UserActivity
from ledger.services.stats import recompute_stats
from tests.factories import MatchFactory

pytestmark = pytest.mark.django_db


def test_completed_match_records_played_won_lost_and_folds_stats(stats_of: Any) -> None:
    match = MatchFactory.create()
    match.state, match.winner = "completed", match.participant1
    match.save()

    winner, loser = match.participant1.user, match.participant2.user
    events = sorted(
        UserActivity.objects.filter(source_model="tournaments.match").values_list(
            "user__username", "event_type"
        )
    )
    assert events == sorted(
        [
            (winner.username, EventType.MATCH_PLAYED),
            (winner.username, EventType.MATCH_WON),
            (loser.username, EventType.MATCH_PLAYED),
            (loser.username, EventType.MATCH_LOST),
        ]
    )
    for user in (winner, loser):
        assert stats_of(user) == recompute_stats(user=user)
    assert stats_of(winner)["matches_won"] == 1
    assert stats_of(loser)["matches_lost"] == 1
