"""The demo history is issue 2's acceptance scenario: exact events and stats for every player."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from esports.demo import load_demo_data
from ledger.models import EventType, UserActivity
from ledger.models.stats import COUNTER_FIELDS
from ledger.services.stats import recompute_stats

pytestmark = pytest.mark.django_db


def _zero(**counters: int) -> dict[str, int]:
    return {**dict.fromkeys(COUNTER_FIELDS, 0), **counters}


EXPECTED = {
    "alice": _zero(
        tournaments_registered=2,
        tournaments_played=2,
        tournaments_completed=2,
        tournaments_won=2,
        matches_played=3,
        matches_won=3,
        total_earned=1000,
        total_spent=100,
        achievements_count=2,
        teams_created=1,
        teams_joined=1,
        current_teams_count=1,
    ),
    "bob": _zero(
        tournaments_registered=2,
        tournaments_played=2,
        tournaments_completed=2,
        tournaments_won=1,
        tournaments_runner_up=1,
        matches_played=3,
        matches_won=1,
        matches_lost=1,
        total_earned=500,
        total_spent=100,
        achievements_count=1,
        teams_joined=1,
        current_teams_count=1,
    ),
    "carol": _zero(
        tournaments_registered=2,
        tournaments_played=2,
        tournaments_completed=2,
        tournaments_runner_up=1,
        tournaments_top4=1,
        matches_played=2,
        matches_lost=1,
        total_earned=250,
        total_spent=400,
        teams_created=1,
        teams_joined=1,
        current_teams_count=1,
    ),
    "dave": _zero(
        tournaments_registered=2,
        tournaments_played=2,
        tournaments_completed=2,
        tournaments_runner_up=1,
        tournaments_top4=1,
        matches_played=2,
        matches_lost=2,
        total_earned=250,
        total_spent=100,
        teams_joined=1,
        current_teams_count=1,
    ),
    # Erin was a no-show in the solo tournament: registered, never played it.
    "erin": _zero(
        tournaments_registered=2,
        tournaments_played=1,
        tournaments_completed=1,
        tournaments_won=1,
        matches_played=1,
        matches_won=1,
        total_spent=100,
        teams_joined=1,
        current_teams_count=1,
    ),
    # Frank left his team after the tournament: his results stand, his membership ended.
    "frank": _zero(
        tournaments_registered=1,
        tournaments_played=1,
        tournaments_completed=1,
        tournaments_runner_up=1,
        matches_played=1,
        matches_lost=1,
        teams_joined=1,
    ),
}


def test_demo_history_leaves_exact_stats_equal_to_recompute(stats_of: Any) -> None:
    assert load_demo_data() is not None
    for username, expected in EXPECTED.items():
        user = get_user_model().objects.get(username=username)
        stored = stats_of(user)
        assert {k: v for k, v in stored.items() if k != "last_activity_at"} == expected, username
        assert stored == recompute_stats(user=user), username


def test_corrected_final_reads_as_a_story_in_the_feed() -> None:
    load_demo_data()
    final_events = list(
        UserActivity.objects.filter(
            user__username="alice", source_model="tournaments.match", metadata__round=2
        )
        .order_by("id")
        .values_list("event_type", "reverses__event_type")
    )
    assert final_events == [
        (EventType.MATCH_PLAYED, None),
        (EventType.MATCH_LOST, None),
        (EventType.REVERSAL, EventType.MATCH_LOST),
        (EventType.MATCH_WON, None),
    ]


def test_demo_data_loads_once() -> None:
    assert load_demo_data() is not None
    count = UserActivity.objects.count()
    assert load_demo_data() is None
    assert UserActivity.objects.count() == count
