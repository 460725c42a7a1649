"""achievement(code) and its rarity: the database's share of players with stats who hold it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger.models import AchievementHolders, PlayerCount, UserProfileStats
from ledger.operations.gdpr import anonymize_user
from ledger.operations.reconcile import reconcile_stats
from tests.esports.scenario import assert_stats_fold_everywhere
from tests.factories import AchievementFactory, UnlockFactory, UserFactory, transaction_for
from tests.graphql_api.conftest import error_codes

pytestmark = pytest.mark.django_db

RARITY = """query($code: String!) { achievement(code: $code) {
  code name holders unlockedPercent rarity } }"""


def _world() -> list[Any]:
    """Ten players with stats: one holds first-blood, six hold veteran; unicorn nobody."""
    players = [UserFactory.create() for _ in range(10)]
    first_blood, veteran = (AchievementFactory.create(code=c) for c in ("first-blood", "veteran"))
    AchievementFactory.create(code="unicorn")
    UnlockFactory.create(user=players[0], achievement=first_blood)
    for player in players[:6]:
        UnlockFactory.create(user=player, achievement=veteran)
    for player in players[6:]:
        transaction_for(player, 5)  # a stats row without achievements
    UserFactory.create()  # no events, no stats row: not a player of the share
    return players


def _rarity(graphql, code: str) -> dict[str, Any]:
    result = graphql(RARITY, {"code": code})
    assert "errors" not in result, result
    return result["data"]["achievement"]


def test_rarity_is_the_databases_share(graphql) -> None:
    _world()
    assert UserProfileStats.objects.count() == 10
    assert _rarity(graphql, "first-blood") == {
        "code": "first-blood",
        "name": "First Blood",
        "holders": 1,
        "unlockedPercent": 10.0,
        "rarity": "RARE",
    }
    veteran = _rarity(graphql, "veteran")
    assert (veteran["holders"], veteran["unlockedPercent"], veteran["rarity"]) == (
        6,
        60.0,
        "COMMON",
    )
    unicorn = _rarity(graphql, "unicorn")
    assert (unicorn["holders"], unicorn["unlockedPercent"], unicorn["rarity"]) == (
        0,
        0.0,
        "ULTRA_RARE",
    )
    assert_stats_fold_everywhere()


def test_an_erased_holder_leaves_the_share(graphql) -> None:
    players = _world()
    anonymize_user(user=players[0])
    assert _rarity(graphql, "first-blood")["holders"] == 0
    veteran = _rarity(graphql, "veteran")
    assert (veteran["holders"], veteran["unlockedPercent"]) == (5, pytest.approx(100 * 5 / 9))
    assert veteran["rarity"] == "COMMON"
    assert reconcile_stats().drifted_rows == []
    assert_stats_fold_everywhere()


def test_a_rarity_read_is_three_key_reads(graphql) -> None:
    _world()
    with CaptureQueriesContext(connection) as queries:
        _rarity(graphql, "veteran")
    reads = [q["sql"] for q in queries if "ledger_" in q["sql"] or "achievement" in q["sql"]]
    assert len(reads) == 3, reads  # the achievement by code, its holders by key, the count
    assert not any("COUNT(" in sql.upper() for sql in reads)


def test_reconcile_finds_and_fixes_tampered_counts() -> None:
    _world()
    AchievementHolders.objects.filter(code="veteran").update(holders=9)
    PlayerCount.objects.filter(id=1).update(players=3)
    report = reconcile_stats()
    assert {(d.projection, d.key) for d in report.drifted_rows} == {
        ("achievement_holders", ("veteran",)),
        ("players", ()),
    }
    fixed = reconcile_stats(fix=True)
    assert fixed.fixed_rows == 2
    assert AchievementHolders.objects.get(code="veteran").holders == 6
    # --fix also gave the user without events a stats row: 11 players now
    assert PlayerCount.objects.get().players == UserProfileStats.objects.count() == 11
    assert not reconcile_stats().found_problems


@pytest.mark.parametrize(("code", "error"), [("nope", "NOT_FOUND"), ("", "BAD_USER_INPUT")])
def test_unknown_or_blank_codes_are_client_errors(graphql, code: str, error: str) -> None:
    assert error_codes(graphql(RARITY, {"code": code})) == [error]
