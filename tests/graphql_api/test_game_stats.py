"""Per-game stats through the API: stats(userId, game), User.games, statsByPeriod(YEAR, game)."""

from __future__ import annotations

import pytest

from ledger.services.stats import recompute_stats
from tests.esports.insights_history import rivals
from tests.esports.scenario import assert_games_sum_to_lifetime, assert_stats_fold_everywhere
from tests.graphql_api.conftest import error_codes

pytestmark = pytest.mark.django_db

COUNTERS = (
    "tournamentsRegistered tournamentsPlayed matchesPlayed matchesWon matchesLost "
    "totalEarned winRate"
)


def test_stats_of_one_game_and_every_game(graphql) -> None:
    history = rivals()
    ann_id = str(history.ann.pk)
    query = f"""query($id: ID!, $name: String!) {{
      valorant: stats(userId: $id, game: "valorant") {{ {COUNTERS} }}
      cs2: stats(userId: $id, game: "cs2") {{ {COUNTERS} }}
      never: stats(userId: $id, game: "dota2") {{ {COUNTERS} }}
      lifetime: stats(userId: $id) {{ {COUNTERS} }}
      user(username: $name) {{ games {{ game stats {{ matchesPlayed matchesWon matchesLost }} }} }}
    }}"""
    result = graphql(query, {"id": ann_id, "name": "ann"})
    assert "errors" not in result, result
    data = result["data"]
    keys = ("tournamentsRegistered", "tournamentsPlayed", "matchesPlayed", "matchesWon")
    assert [data["valorant"][k] for k in keys] == [1, 1, 3, 3]
    assert [data["cs2"][k] for k in keys] == [1, 1, 2, 1]
    assert [data["never"][k] for k in keys] == [0, 0, 0, 0]
    assert [data["lifetime"][k] for k in keys] == [2, 2, 5, 4]
    assert data["valorant"]["winRate"] == 1.0
    assert data["cs2"]["winRate"] == 0.5
    assert data["user"]["games"] == [
        {"game": "cs2", "stats": {"matchesPlayed": 2, "matchesWon": 1, "matchesLost": 0}},
        {"game": "valorant", "stats": {"matchesPlayed": 3, "matchesWon": 3, "matchesLost": 0}},
    ]
    bob = graphql(query, {"id": str(history.bob.pk), "name": "bob"})["data"]
    assert bob["user"]["games"] == [
        {"game": "cs2", "stats": {"matchesPlayed": 2, "matchesWon": 0, "matchesLost": 1}},
        {"game": "valorant", "stats": {"matchesPlayed": 3, "matchesWon": 0, "matchesLost": 3}},
    ]
    assert recompute_stats(history.ann)["matches_won"] == 4
    assert_stats_fold_everywhere()
    assert_games_sum_to_lifetime()


def test_stats_by_year_of_one_game(graphql) -> None:
    history = rivals()
    query = """query($id: ID!, $game: String) {
      statsByPeriod(userId: $id, period: YEAR, game: $game) {
        periodStart matchesPlayed matchesWon tournamentsPlayed
      } }"""
    every = graphql(query, {"id": str(history.ann.pk)}, user=history.ann)["data"]
    assert every["statsByPeriod"] == [
        {
            "periodStart": "2026-01-01T00:00:00+00:00",
            "matchesPlayed": 5,
            "matchesWon": 4,
            "tournamentsPlayed": 2,
        }
    ]
    one = graphql(query, {"id": str(history.ann.pk), "game": "cs2"}, user=history.ann)["data"]
    assert one["statsByPeriod"] == [
        {
            "periodStart": "2026-01-01T00:00:00+00:00",
            "matchesPlayed": 2,
            "matchesWon": 1,
            "tournamentsPlayed": 1,
        }
    ]


@pytest.mark.parametrize("game", ["", "   ", "x" * 65, "bad\x00game"])
def test_a_malformed_game_is_a_client_error(graphql, game: str) -> None:
    user = rivals().ann
    result = graphql(
        "query($id: ID!, $game: String) { stats(userId: $id, game: $game) { matchesPlayed } }",
        {"id": str(user.pk), "game": game},
    )
    assert error_codes(result) == ["BAD_USER_INPUT"]
