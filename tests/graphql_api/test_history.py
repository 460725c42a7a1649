"""tournamentHistory from real platform rows: one node per tournament, set-based."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from esports.tournaments.models import Match, TournamentResult
from tests.esports.scenario import check_in, decide
from tests.factories import (
    MatchFactory,
    RegistrationFactory,
    TournamentFactory,
    UserFactory,
    transaction_for,
)
from tests.graphql_api.conftest import error_codes, global_id

pytestmark = pytest.mark.django_db

HISTORY = """query($userId: ID, $first: Int, $after: String) {
  tournamentHistory(userId: $userId, first: $first, after: $after) {
    edges { cursor node { tournamentId tournamentName registered joined completed placement
                          matchesPlayed matchesWon matchesLost coinsEarned } }
    pageInfo { hasNextPage endCursor } } }"""

DAY = datetime(2026, 3, 1, tzinfo=UTC)


def nodes(result):
    return [e["node"] for e in result["data"]["tournamentHistory"]["edges"]]


def play_cup(ann, bob, *, name, day):
    """ann beats bob twice (one result corrected on the way), wins the cup and 100 coins."""
    cup = TournamentFactory.create(name=name)
    mine = RegistrationFactory.create(tournament=cup, user=ann, confirmed_at=day)
    theirs = RegistrationFactory.create(tournament=cup, user=bob, confirmed_at=day)
    check_in(mine, at=day + timedelta(hours=1))
    check_in(theirs, at=day + timedelta(hours=1))
    first = MatchFactory.create(tournament=cup, participant1=mine, participant2=theirs)
    decide(first, winner=theirs, at=day + timedelta(hours=2))
    decide(first, winner=mine)  # corrected: ann won after all (a reversal, then the new outcome)
    final = MatchFactory.create(tournament=cup, participant1=mine, participant2=theirs, round=2)
    decide(final, winner=mine, at=day + timedelta(hours=3))
    TournamentResult.objects.create(tournament=cup, winner=mine, runner_up=theirs)
    transaction_for(ann, 100, tournament=cup)
    return cup


def test_one_node_per_tournament_with_its_outcome(graphql):
    ann, bob = UserFactory.create(username="ann"), UserFactory.create(username="bob")
    cup = play_cup(ann, bob, name="Spring Cup", day=DAY)
    later = TournamentFactory.create(name="Summer Cup")
    RegistrationFactory.create(tournament=later, user=ann, confirmed_at=DAY + timedelta(days=30))
    history = nodes(graphql(HISTORY, user=ann))
    assert history == [
        {
            "tournamentId": str(later.pk),
            "tournamentName": "Summer Cup",
            "registered": True,
            "joined": False,
            "completed": False,
            "placement": None,
            "matchesPlayed": 0,
            "matchesWon": 0,
            "matchesLost": 0,
            "coinsEarned": 0,
        },
        {
            "tournamentId": str(cup.pk),
            "tournamentName": "Spring Cup",
            "registered": True,
            "joined": True,
            "completed": True,
            "placement": 1,
            "matchesPlayed": 2,
            "matchesWon": 2,
            "matchesLost": 0,
            "coinsEarned": 100,
        },
    ]
    runner_up = nodes(graphql(HISTORY, {"userId": str(bob.pk)}, user=bob))
    assert runner_up == [
        {
            "tournamentId": str(cup.pk),
            "tournamentName": "Spring Cup",
            "registered": True,
            "joined": True,
            "completed": True,
            "placement": 2,
            "matchesPlayed": 2,
            "matchesWon": 0,
            "matchesLost": 2,
            "coinsEarned": 0,
        },
    ]


def test_third_and_fourth_places_read_from_the_events(graphql):
    cup = TournamentFactory.create()
    players = [UserFactory.create() for _ in range(4)]
    regs = [RegistrationFactory.create(tournament=cup, user=u) for u in players]
    for registration in regs:
        check_in(registration)
    TournamentResult.objects.create(
        tournament=cup,
        winner=regs[0],
        runner_up=regs[1],
        third_place=regs[2],
        fourth_place=regs[3],
    )
    places = [nodes(graphql(HISTORY, user=u))[0]["placement"] for u in players]
    assert places == [1, 2, 3, 4]


def test_history_pages_newest_first_by_cursor(graphql):
    ann = UserFactory.create()
    cups = []
    for i in range(5):
        cup = TournamentFactory.create(name=f"Cup {i}")
        RegistrationFactory.create(tournament=cup, user=ann, confirmed_at=DAY + timedelta(days=i))
        cups.append(cup)
    first = graphql(HISTORY, {"first": 2}, user=ann)
    end = first["data"]["tournamentHistory"]["pageInfo"]["endCursor"]
    rest = graphql(HISTORY, {"first": 10, "after": end}, user=ann)
    ids = [n["tournamentId"] for n in nodes(first) + nodes(rest)]
    assert ids == [str(c.pk) for c in reversed(cups)]
    assert first["data"]["tournamentHistory"]["pageInfo"]["hasNextPage"] is True
    assert rest["data"]["tournamentHistory"]["pageInfo"]["hasNextPage"] is False
    assert error_codes(graphql(HISTORY, {"after": "bm9wZQ=="}, user=ann)) == ["BAD_USER_INPUT"]


def _history_queries(graphql, user, expected):
    with CaptureQueriesContext(connection) as queries:
        result = graphql(HISTORY, {"first": 50}, user=user)
    assert len(nodes(result)) == expected
    return len(queries)


def test_history_query_count_does_not_grow_with_tournaments(graphql):
    ann, bob = UserFactory.create(), UserFactory.create()
    play_cup(ann, bob, name="Only", day=DAY)
    one = _history_queries(graphql, ann, 1)
    for i in range(6):
        play_cup(ann, bob, name=f"Cup {i}", day=DAY + timedelta(days=i + 1))
    assert _history_queries(graphql, ann, 7) == one
    assert Match.objects.count() == 14


def test_each_tournament_links_the_tournament_as_it_is_now(graphql):
    ann, bob = UserFactory.create(username="ann"), UserFactory.create(username="bob")
    cup = play_cup(ann, bob, name="Spring Cup", day=DAY)
    cup.name = "Spring Cup (renamed)"
    cup.save()
    query = "{ tournamentHistory { edges { node { tournamentName tournament { id name } } } } }"
    [node] = nodes(graphql(query, user=ann))
    assert node == {
        "tournamentName": "Spring Cup",  # as its events recorded it
        "tournament": {"id": global_id("Tournament", cup.pk), "name": "Spring Cup (renamed)"},
    }
