"""stats, statsByPeriod, economySummary and leaderboard: exact numbers from events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger.models import EventType
from ledger.services.stats import recompute_stats
from tests.factories import UserFactory, transaction_for
from tests.graphql_api.conftest import error_codes, make_events

pytestmark = pytest.mark.django_db

STATS = """query($userId: ID) { stats(userId: $userId) {
  tournamentsRegistered tournamentsPlayed tournamentsCompleted tournamentsWon tournamentsRunnerUp
  tournamentsTop4 matchesPlayed matchesWon matchesLost totalEarned totalSpent achievementsCount
  teamsCreated teamsJoined currentTeamsCount winRate tournamentWinRate netEarnings
  lastActivityAt } }"""


def snake(name):
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def record(
    user,
    event_type,
    count,
    *,
    start=datetime(2026, 1, 5, tzinfo=UTC),
    amount=0,
    step=timedelta(hours=1),
):
    make_events(
        user,
        count,
        event_type=event_type,
        source_model=f"tests.{event_type}",
        start=start,
        amount=amount,
        step=step,
    )


def test_stats_read_every_counter_and_the_derived_rates(graphql):
    user = UserFactory.create()
    record(user, EventType.MATCH_PLAYED, 4)
    record(user, EventType.MATCH_WON, 3)
    record(user, EventType.MATCH_LOST, 1)
    record(user, EventType.TOURNAMENT_JOINED, 4)
    record(user, EventType.TOURNAMENT_WON, 1)
    transaction_for(user, 100)
    transaction_for(user, -30, reason="purchase")
    stats = graphql(STATS, user=user)["data"]["stats"]
    assert stats["winRate"] == 0.75
    assert stats["tournamentWinRate"] == 0.25
    assert stats["netEarnings"] == 70
    recomputed = recompute_stats(user=user)
    for key, value in stats.items():
        if key in ("winRate", "tournamentWinRate", "netEarnings"):
            continue
        expected = recomputed[snake(key)]
        if key == "lastActivityAt":
            expected = expected.isoformat()
        assert value == expected, key


def test_a_user_without_a_stats_row_reads_zeros(graphql):
    user = UserFactory.create()
    stats = graphql(STATS, {"userId": str(user.pk)})["data"]["stats"]
    assert stats.pop("lastActivityAt") is None
    assert set(stats.values()) == {0}


def test_stats_of_an_unknown_user_is_not_found_and_anonymous_needs_user_id(graphql):
    result = graphql(STATS, {"userId": "999999"})
    assert result["data"] is None
    assert error_codes(result) == ["NOT_FOUND"]
    assert "No user with id 999999" in result["errors"][0]["message"]
    assert error_codes(graphql(STATS, {})) == ["UNAUTHENTICATED"]


def test_stats_cost_a_fixed_number_of_queries(graphql):
    user = UserFactory.create()
    record(user, EventType.MATCH_PLAYED, 2)
    with CaptureQueriesContext(connection) as queries:
        graphql(STATS, {"userId": str(user.pk)})
    # the user LEFT JOIN their stats row, by primary key: one round trip (bench/ measures it)
    assert len(queries) == 1


PERIODS = """query($period: StatsPeriod!, $from: DateTime, $to: DateTime, $userId: ID) {
  statsByPeriod(userId: $userId, period: $period, from: $from, to: $to) {
    periodStart matchesPlayed matchesWon totalEarned achievementsCount } }"""


def test_stats_by_month_fold_each_months_standing_events(graphql):
    user = UserFactory.create()
    record(user, EventType.MATCH_PLAYED, 3, start=datetime(2026, 1, 31, 22, tzinfo=UTC))
    record(user, EventType.MATCH_WON, 1, start=datetime(2026, 2, 2, tzinfo=UTC))
    txn = transaction_for(user, 40, created_at=datetime(2026, 2, 10, tzinfo=UTC))
    txn.amount = 25  # corrected: the 40 is reversed now, the 25 happened in February
    txn.save()
    periods = graphql(PERIODS, {"period": "MONTH"}, user=user)["data"]["statsByPeriod"]
    assert periods == [
        {
            "periodStart": "2026-01-01T00:00:00+00:00",
            "matchesPlayed": 2,
            "matchesWon": 0,
            "totalEarned": 0,
            "achievementsCount": 0,
        },
        {
            "periodStart": "2026-02-01T00:00:00+00:00",
            "matchesPlayed": 1,
            "matchesWon": 1,
            "totalEarned": 25,
            "achievementsCount": 0,
        },
    ]


def test_stats_by_week_and_bounds(graphql):
    user = UserFactory.create()
    # Monday 2026-01-05 and the following Monday
    record(
        user,
        EventType.ACHIEVEMENT_UNLOCKED,
        2,
        start=datetime(2026, 1, 5, tzinfo=UTC),
        step=timedelta(days=7),
    )
    weeks = graphql(PERIODS, {"period": "WEEK", "userId": str(user.pk)})["data"]["statsByPeriod"]
    assert [(w["periodStart"], w["achievementsCount"]) for w in weeks] == [
        ("2026-01-05T00:00:00+00:00", 1),
        ("2026-01-12T00:00:00+00:00", 1),
    ]
    bounded = graphql(
        PERIODS, {"period": "WEEK", "userId": str(user.pk), "from": "2026-01-06T00:00:00+00:00"}
    )["data"]["statsByPeriod"]
    assert [w["periodStart"] for w in bounded] == ["2026-01-12T00:00:00+00:00"]
    wrong = graphql(
        PERIODS,
        {
            "period": "WEEK",
            "userId": str(user.pk),
            "from": "2026-02-01T00:00:00Z",
            "to": "2026-01-01T00:00:00Z",
        },
    )
    assert error_codes(wrong) == ["BAD_USER_INPUT"]


def test_economy_summary_totals_by_reason_net_of_corrections(graphql):
    user = UserFactory.create()
    transaction_for(user, 100, reason="winner")
    transaction_for(user, 20, reason="participation")
    transaction_for(user, -15, reason="entry_fee")
    fee = transaction_for(user, -10, reason="purchase")
    fee.amount = -12
    fee.save()
    summary = graphql(
        "{ economySummary { earned spent net byReason { reason earned spent } } }", user=user
    )["data"]["economySummary"]
    assert summary == {
        "earned": 120,
        "spent": 27,
        "net": 93,
        "byReason": [
            {"reason": "entry_fee", "earned": 0, "spent": 15},
            {"reason": "participation", "earned": 20, "spent": 0},
            {"reason": "purchase", "earned": 0, "spent": 12},
            {"reason": "winner", "earned": 100, "spent": 0},
        ],
    }


BOARD = """query($by: LeaderboardBy!, $first: Int, $after: String) {
  leaderboard(by: $by, first: $first, after: $after) {
    edges { cursor node { rank value user { username stats { matchesWon } } } }
    pageInfo { hasNextPage endCursor } } }"""


def board(graphql, by, first=10, after=None):
    data = graphql(BOARD, {"by": by, "first": first, "after": after})["data"]["leaderboard"]
    rows = [
        (e["node"]["rank"], e["node"]["user"]["username"], e["node"]["value"])
        for e in data["edges"]
    ]
    return rows, data["pageInfo"]


@pytest.fixture
def players():
    """(won, played): ann 3/4, bob 3/6, cat 1/1, dan 0/12, eve 6/12."""
    records = {"ann": (3, 4), "bob": (3, 6), "cat": (1, 1), "dan": (0, 12), "eve": (6, 12)}
    users = {}
    for name, (won, played) in records.items():
        user = UserFactory.create(username=name)
        record(user, EventType.MATCH_PLAYED, played)
        record(user, EventType.MATCH_WON, won)
        users[name] = user
    transaction_for(users["dan"], 500)
    transaction_for(users["cat"], 80)
    return users


def test_matches_won_board_breaks_ties_by_fewer_matches(graphql, players):
    rows, info = board(graphql, "MATCHES_WON")
    assert rows == [
        (1, "eve", 6.0),
        (2, "ann", 3.0),
        (3, "bob", 3.0),
        (4, "cat", 1.0),
        (5, "dan", 0.0),
    ]
    assert info["hasNextPage"] is False


def test_leaderboard_pages_by_cursor_without_gap_or_duplicate(graphql, players):
    first, info = board(graphql, "MATCHES_WON", first=2)
    second, info2 = board(graphql, "MATCHES_WON", first=2, after=info["endCursor"])
    third, info3 = board(graphql, "MATCHES_WON", first=2, after=info2["endCursor"])
    assert [r[1] for r in first + second + third] == ["eve", "ann", "bob", "cat", "dan"]
    assert [r[0] for r in first + second + third] == [1, 2, 3, 4, 5]
    assert (info["hasNextPage"], info2["hasNextPage"], info3["hasNextPage"]) == (True, True, False)


def test_total_earned_board(graphql, players):
    rows, _ = board(graphql, "TOTAL_EARNED", first=2)
    assert rows == [(1, "dan", 500.0), (2, "cat", 80.0)]


def test_win_rate_board_ranks_only_players_with_the_minimum_matches(graphql, players, settings):
    settings.LEADERBOARD_MIN_MATCHES = 4
    rows, _ = board(graphql, "WIN_RATE")
    assert rows == [(1, "ann", 0.75), (2, "eve", 0.5), (3, "bob", 0.5), (4, "dan", 0.0)]
    first, info = board(graphql, "WIN_RATE", first=2)
    rest, _ = board(graphql, "WIN_RATE", first=5, after=info["endCursor"])
    assert [r[1] for r in first + rest] == ["ann", "eve", "bob", "dan"]
    settings.LEADERBOARD_MIN_MATCHES = 10
    assert [r[1] for r in board(graphql, "WIN_RATE")[0]] == ["eve", "dan"]


def test_leaderboard_queries_do_not_grow_with_the_page(graphql, players):
    def count(first):
        with CaptureQueriesContext(connection) as queries:
            rows, _ = board(graphql, "MATCHES_WON", first=first)
        assert len(rows) == first
        return len(queries)

    assert count(1) == count(5) == 2


def test_leaderboard_refuses_oversized_pages_and_foreign_cursors(graphql, players):
    result = graphql(BOARD, {"by": "MATCHES_WON", "first": 101})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    _, info = board(graphql, "MATCHES_WON", first=1)
    foreign = graphql(BOARD, {"by": "TOTAL_EARNED", "after": info["endCursor"]})
    assert error_codes(foreign) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    "parts", ["inf:1:1:1", "nan:1:1:1", "1:1:1", "3:9:99999999999999999999999:1", "x:1:1:1"]
)
def test_malformed_leaderboard_cursors_are_client_errors(graphql, parts):
    import base64

    cursor = base64.urlsafe_b64encode(f"lb-matches_won:{parts}".encode()).decode()
    result = graphql(BOARD, {"by": "MATCHES_WON", "after": cursor})
    assert error_codes(result) == ["BAD_USER_INPUT"]
