"""headToHead: exact, symmetric records for solo and team matches, read by key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger.models import HeadToHead
from ledger.operations.gdpr import anonymize_user
from ledger.operations.reconcile import reconcile_stats
from ledger.selectors import head_to_head
from tests.conftest import on_postgresql
from tests.esports.insights_history import rivals, squads
from tests.esports.scenario import assert_stats_fold_everywhere
from tests.factories import UserFactory
from tests.graphql_api.conftest import error_codes

pytestmark = pytest.mark.django_db

H2H = """query($a: ID!, $b: ID!) { headToHead(userId: $a, opponentId: $b) {
  matchesPlayed won lost lastMatchAt lastMatch { round state tournament { game } } } }"""


def _h2h(graphql, a: Any, b: Any) -> dict[str, Any]:
    result = graphql(H2H, {"a": str(a.pk), "b": str(b.pk)})
    assert "errors" not in result, result
    return result["data"]["headToHead"]


def test_solo_record_is_exact_and_symmetric(graphql) -> None:
    history = rivals()
    ann, bob = _h2h(graphql, history.ann, history.bob), _h2h(graphql, history.bob, history.ann)
    # five matches; m2 corrected to Ann; m4 a forfeit: played, neither won nor lost
    assert (ann["matchesPlayed"], ann["won"], ann["lost"]) == (5, 4, 0)
    assert (bob["matchesPlayed"], bob["won"], bob["lost"]) == (5, 0, 4)
    assert ann["lastMatchAt"] == bob["lastMatchAt"] == "2026-03-02T17:00:00+00:00"
    assert ann["lastMatch"] == bob["lastMatch"]
    assert ann["lastMatch"] == {
        "round": 5,
        "state": "COMPLETED",
        "tournament": {"game": "valorant"},
    }
    assert_stats_fold_everywhere()


def test_team_members_meet_each_member_of_the_other_team(graphql) -> None:
    teams = squads()
    for red in teams.red:
        for blue in teams.blue:
            won, lost = _h2h(graphql, red, blue), _h2h(graphql, blue, red)
            assert (won["matchesPlayed"], won["won"], won["lost"]) == (1, 1, 0)
            assert (lost["matchesPlayed"], lost["won"], lost["lost"]) == (1, 0, 1)
            assert won["lastMatch"]["tournament"] == {"game": "dota2"}
    mates = _h2h(graphql, teams.red[0], teams.red[1])  # teammates never met
    assert (mates["matchesPlayed"], mates["lastMatch"], mates["lastMatchAt"]) == (0, None, None)
    assert HeadToHead.objects.count() == 8


def test_served_by_key_in_the_same_queries_however_many_matches() -> None:
    history = rivals()
    with CaptureQueriesContext(connection) as few:
        head_to_head(user_id=history.ann.pk, opponent_id=history.bob.pk)
    from tests.esports.scenario import decide
    from tests.factories import MatchFactory

    side1, side2 = history.matches[0].participant1, history.matches[0].participant2
    for _ in range(20):
        decide(MatchFactory.create(participant1=side1, participant2=side2), winner=side2)
    with CaptureQueriesContext(connection) as many:
        record = head_to_head(user_id=history.ann.pk, opponent_id=history.bob.pk)
    assert (record.matches_played, record.won, record.lost) == (25, 4, 20)
    assert len(many) == len(few) == 2  # the row by its key, the last match's events by index


@pytest.mark.skipif(not on_postgresql(), reason="EXPLAIN on PostgreSQL")
def test_the_record_is_an_index_scan_of_its_key() -> None:
    history = rivals()
    players = [UserFactory.create() for _ in range(60)]
    HeadToHead.objects.bulk_create(
        HeadToHead(user=a, opponent=b) for a in players for b in players if a != b
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ledger_headtohead")
    query = HeadToHead.objects.filter(user=history.ann, opponent=history.bob)
    plan = json.loads(query.explain(format="json"))[0]["Plan"]
    assert plan["Node Type"] in {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"}, plan
    indexes = {n.get("Index Name") for n in [plan, *plan.get("Plans", [])]}
    # the key, or the opponent's foreign-key index (erasure's): either way no table scan
    assert indexes & {"ledger_h2h_key", *_opponent_indexes()}, plan


def _opponent_indexes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'ledger_headtohead' "
            "AND indexdef LIKE '%(opponent_id)'"
        )
        return {name for (name,) in cursor.fetchall()}


def test_erasing_a_player_erases_every_record_naming_them() -> None:
    history = rivals()
    anonymize_user(user=history.bob)
    assert not HeadToHead.objects.filter(user=history.bob).exists()
    assert not HeadToHead.objects.filter(opponent=history.bob).exists()
    assert reconcile_stats().drifted_rows == []
    assert_stats_fold_everywhere()


@pytest.mark.parametrize(
    ("a", "b", "code"),
    [
        ("ann", "ann", "BAD_USER_INPUT"),
        ("ann", "999999", "NOT_FOUND"),
        ("999999", "ann", "NOT_FOUND"),
        ("ann", "not-an-id", "BAD_USER_INPUT"),
    ],
)
def test_bad_players_are_client_errors(graphql, a: str, b: str, code: str) -> None:
    history = rivals()
    ids = {"ann": str(history.ann.pk)}
    result = graphql(H2H, {"a": ids.get(a, a), "b": ids.get(b, b)})
    assert error_codes(result) == [code]
