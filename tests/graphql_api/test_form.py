"""Streaks and recent form through the API: exact numbers from the rivals' history."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import override_settings

from esports.profiles.models import UserProfile
from ledger.models import UserActivity
from ledger.operations.archive import archive_activity
from tests.esports.insights_history import rivals
from tests.factories import UserFactory
from tests.graphql_api.conftest import error_codes

pytestmark = pytest.mark.django_db

GAMES = (None, "valorant", "cs2")

STREAKS = """query($id: ID!, $game: String) {
  stats(userId: $id, game: $game) { currentWinStreak longestWinStreak } }"""


def _streaks(graphql, user, game=None) -> tuple[int, int]:
    result = graphql(STREAKS, {"id": str(user.pk), "game": game})
    assert "errors" not in result, result
    stats = result["data"]["stats"]
    return stats["currentWinStreak"], stats["longestWinStreak"]


def test_a_correction_long_after_rewrites_an_old_streak(graphql) -> None:
    history = rivals(corrected=False)
    # Ann: m1 W, m2 L, m3 W, m4 forfeit, m5 W; Bob the other way round but the forfeit.
    assert _streaks(graphql, history.ann) == (2, 2)
    assert _streaks(graphql, history.bob) == (0, 1)

    from tests.esports.scenario import decide

    decide(history.matches[1], winner=history.matches[1].participant1)  # m2 now Ann's

    assert _streaks(graphql, history.ann) == (4, 4)  # the forfeit neither breaks nor extends
    assert _streaks(graphql, history.bob) == (0, 0)
    assert _streaks(graphql, history.ann, "valorant") == (3, 3)
    assert _streaks(graphql, history.ann, "cs2") == (1, 1)
    assert _streaks(graphql, history.bob, "cs2") == (0, 0)


def test_streaks_on_every_game_of_a_user(graphql) -> None:
    history = rivals()
    query = """query($name: String!) { user(username: $name) {
      stats { currentWinStreak longestWinStreak }
      games { game stats { currentWinStreak longestWinStreak } } } }"""
    user = graphql(query, {"name": "ann"})["data"]["user"]
    assert user["stats"] == {"currentWinStreak": 4, "longestWinStreak": 4}
    assert user["games"] == [
        {"game": "cs2", "stats": {"currentWinStreak": 1, "longestWinStreak": 1}},
        {"game": "valorant", "stats": {"currentWinStreak": 3, "longestWinStreak": 3}},
    ]
    assert history.ann.username == "ann"


RECENT = """query($name: String!, $last: Int) { user(username: $name) {
  recentResults(last: $last) { outcome playedAt game match { round state tournament { name } } }
} }"""


def test_recent_results_newest_first_with_forfeits(graphql) -> None:
    history = rivals()
    result = graphql(RECENT, {"name": "ann", "last": 4}, user=history.ann)
    assert "errors" not in result, result
    rows = result["data"]["user"]["recentResults"]
    assert [(r["outcome"], r["game"], r["match"]["round"]) for r in rows] == [
        ("WON", "valorant", 5),
        ("FORFEIT", "cs2", 4),  # Bob took it by forfeit: no win, no loss for either
        ("WON", "cs2", 3),
        ("WON", "valorant", 2),  # as corrected
    ]
    assert rows[0]["playedAt"] == "2026-03-02T17:00:00+00:00"
    assert rows[2]["match"] == {"round": 3, "state": "COMPLETED", "tournament": {"name": "CS2 Cup"}}
    every = graphql(RECENT, {"name": "bob"}, user=history.bob)["data"]["user"]["recentResults"]
    assert [r["outcome"] for r in every] == ["LOST", "FORFEIT", "LOST", "LOST", "LOST"]


def test_a_private_players_recent_results_are_theirs_and_staffs(graphql) -> None:
    history = rivals()
    UserProfile.objects.update_or_create(user=history.bob, defaults={"activity_public": False})
    stranger = UserFactory.create()
    staff = UserFactory.create(is_staff=True)
    denied = graphql(RECENT, {"name": "bob", "last": 1}, user=stranger)
    assert error_codes(denied) == ["FORBIDDEN"]
    for viewer in (history.bob, staff):
        rows = graphql(RECENT, {"name": "bob", "last": 1}, user=viewer)["data"]["user"]
        assert [r["outcome"] for r in rows["recentResults"]] == ["LOST"]
    # streaks are stats: public, as lifetime stats are
    assert _streaks(graphql, history.bob) == (0, 0)


@pytest.mark.parametrize("last", [-1, 101])
def test_last_out_of_range_is_a_client_error(graphql, last: int) -> None:
    history = rivals()
    result = graphql(RECENT, {"name": "ann", "last": last}, user=history.ann)
    assert error_codes(result) == ["BAD_USER_INPUT"]


def test_an_archive_changes_no_streak_nor_recent_result(graphql, tmp_path) -> None:
    history = rivals(corrected=False)  # a correction made now would hold March 2026 back
    users = (history.ann, history.bob)
    recent = {user.pk: graphql(RECENT, {"name": user.username}, user=user) for user in users}
    streaks = {(user.pk, game): _streaks(graphql, user, game) for user in users for game in GAMES}

    with override_settings(LEDGER_ARCHIVE_DIR=tmp_path):
        report = archive_activity(before=date(2026, 4, 1))

    assert report.total_events > 0
    assert not UserActivity.objects.filter(event_type="match_won").exists()  # all archived
    for user in users:
        assert graphql(RECENT, {"name": user.username}, user=user) == recent[user.pk]
        for game in GAMES:
            assert _streaks(graphql, user, game) == streaks[(user.pk, game)]
    assert streaks[(history.ann.pk, None)] == (2, 2)
