"""Issue 17's "done when", as a third-party client sees it: ``gql`` over HTTP against a live
uvicorn server on PostgreSQL. The history: the demo (corrections, a team tournament, a private
player, frank) plus Ann and Bob's (a correction long after, a forfeit) and two teams' match.

Per-game sums equal the lifetime stats; streaks equal the events; head-to-head is symmetric;
rarity equals the database's share.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from esports.achievements.models import Achievement, UserAchievement
from esports.demo import load_demo_data
from esports.profiles.models import UserProfile
from ledger.models import HeadToHead, UserProfileStats
from tests.esports.insights_history import rivals, squads
from tests.graphql_api.test_gql_typed_client import Api, server  # noqa: F401  (the fixture)
from tests.ledger.test_form_properties import _from_events, _runs

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]

COUNTERS = (
    "tournamentsRegistered tournamentsPlayed tournamentsCompleted tournamentsWon "
    "tournamentsRunnerUp tournamentsTop4 matchesPlayed matchesWon matchesLost"
)
PLAYER = f"""query($name: String!) {{ user(username: $name) {{
  id stats {{ {COUNTERS} currentWinStreak longestWinStreak }}
  games {{ game stats {{ {COUNTERS} }} }} }} }}"""
H2H = """query($a: ID!, $b: ID!) { headToHead(userId: $a, opponentId: $b) {
  matchesPlayed won lost lastMatchAt } }"""
RARITY = """query($code: String!) { achievement(code: $code) { holders unlockedPercent rarity } }"""


@pytest.fixture
def history() -> None:
    load_demo_data()
    rivals()
    squads()
    UserProfile.objects.filter(user__username="bob").update(activity_public=False)


def test_insights_over_http_equal_the_database(server: Any, history: None) -> None:  # noqa: F811
    api = Api(server)
    users = list(get_user_model().objects.order_by("pk"))
    assert {"frank", "ann", "bob", "red_captain"} <= {u.username for u in users}
    ids: dict[int, str] = {}
    for user in users:
        data = api.run(PLAYER, name=user.username)["user"]
        ids[user.pk] = data["id"]
        lifetime = data["stats"]
        for name in COUNTERS.split():  # per-game sums equal the lifetime stats
            assert sum(g["stats"][name] for g in data["games"]) == lifetime[name], (user, name)
        outcomes = [won for _, _, won in _from_events(user)]  # streaks equal the events
        assert (lifetime["currentWinStreak"], lifetime["longestWinStreak"]) == _runs(outcomes)
    ann = get_user_model().objects.get(username="ann")
    assert api.run(PLAYER, name="ann")["user"]["stats"]["longestWinStreak"] == 4

    pairs = list(HeadToHead.objects.values_list("user_id", "opponent_id"))
    assert len(pairs) >= 10
    for a, b in pairs:  # head-to-head is symmetric
        one = api.run(H2H, a=ids[a], b=ids[b])["headToHead"]
        other = api.run(H2H, a=ids[b], b=ids[a])["headToHead"]
        assert one["matchesPlayed"] == other["matchesPlayed"] > 0
        assert (one["won"], one["lost"]) == (other["lost"], other["won"])
        assert one["lastMatchAt"] == other["lastMatchAt"]
    bob = get_user_model().objects.get(username="bob")
    assert api.run(H2H, a=ids[ann.pk], b=ids[bob.pk])["headToHead"]["won"] == 4

    players = UserProfileStats.objects.count()
    codes = list(Achievement.objects.values_list("code", flat=True))
    assert codes
    for code in codes:  # rarity equals the database's share
        holders = UserAchievement.objects.filter(
            achievement__code=code, user__activity_stats__isnull=False
        ).count()
        rarity = api.run(RARITY, code=code)["achievement"]
        assert rarity["holders"] == holders
        assert rarity["unlockedPercent"] == pytest.approx(100 * holders / players)
