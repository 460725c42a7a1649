"""The demo history is issue 2's acceptance scenario: exact events and stats for every player."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from esports.demo import load_demo_data
from ledger.counters import COUNTER_FIELDS
from ledger.models import EventType, UserActivity
from ledger.services.stats import recompute_stats

pytestmark = pytest.mark.django_db


# One row per player, one column per counter in COUNTER_FIELDS' order:
#   tournaments registered, played, completed, won, runner-up, top 4; matches played, won, lost;
#   coins earned, spent; achievements; teams created, joined, current.
# Erin was a no-show in the solo tournament: registered, never played it.
# Frank left his team after the tournament: his results stand, his membership ended.
EXPECTED_ROWS: dict[str, tuple[int, ...]] = {
    "alice": (  2,   2,   2,   2,   0,   0,   3,   3,   0, 1000, 100,   2,   1,   1,   1),
    "bob":   (  2,   2,   2,   1,   1,   0,   3,   1,   1,  500, 100,   1,   0,   1,   1),
    "carol": (  2,   2,   2,   0,   1,   1,   2,   0,   1,  250, 400,   0,   1,   1,   1),
    "dave":  (  2,   2,   2,   0,   1,   1,   2,   0,   2,  250, 100,   0,   0,   1,   1),
    "erin":  (  2,   1,   1,   1,   0,   0,   1,   1,   0,    0, 100,   0,   0,   1,   1),
    "frank": (  1,   1,   1,   0,   1,   0,   1,   0,   1,    0,   0,   0,   0,   1,   0),
}  # fmt: skip
EXPECTED = {
    name: dict(zip(COUNTER_FIELDS, row, strict=True)) for name, row in EXPECTED_ROWS.items()
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
