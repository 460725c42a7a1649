"""Typed events: every event type's fields agree with what it recorded, its objects are linked
as they are now (null once gone), and a page costs a fixed number of queries."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from esports.demo import load_demo_data
from esports.tournaments.models import Match, Registration, Tournament
from graphql_api.activity.events import EVENT_TYPES
from graphql_api.auth.tokens import issue_api_token
from ledger.models import EventType, UserActivity
from ledger.operations.gdpr import ERASED, anonymize_user
from tests.factories import (
    MatchFactory,
    MembershipFactory,
    RegistrationFactory,
    TeamFactory,
    TournamentFactory,
    UserFactory,
)
from tests.graphql_api.typed_feed import CONCRETE, TYPED_FEED, expected_node, gid

pytestmark = pytest.mark.django_db

User = get_user_model()


def typed_nodes(graphql: Any, *, viewer: Any, user: Any, first: int = 100) -> list[dict]:
    result = graphql(TYPED_FEED, {"userId": str(user.pk), "first": first}, user=viewer)
    assert "errors" not in result, result
    return [edge["node"] for edge in result["data"]["activityFeed"]["edges"]]


def newest_first(user: Any) -> list[UserActivity]:
    return list(
        UserActivity.objects.filter(user=user)
        .select_related("user", "reverses")
        .order_by("-timestamp", "-id")
    )


def decided(match: Match) -> Match:
    """A scheduled match, then played: its first participant won."""
    match.state, match.winner = Match.State.COMPLETED, match.participant1
    match.save()
    return match


def test_every_event_type_has_its_concrete_type():
    assert set(EVENT_TYPES) == set(EventType.values)
    assert {event_type for event_type, _ in CONCRETE.values()} == {
        t.upper() for t in EventType.values
    }


def test_every_event_of_the_demo_history_reads_as_it_was_recorded(graphql):
    load_demo_data()
    staff = UserFactory.create(username="ops", is_staff=True)
    seen_types: set[str] = set()
    for player in User.objects.filter(is_staff=False):
        events = newest_first(player)
        assert typed_nodes(graphql, viewer=staff, user=player) == [expected_node(e) for e in events]
        seen_types |= {e.event_type for e in events}
    assert seen_types == set(EventType.values)  # the demo holds every kind, corrections included


def test_a_match_event_links_the_match_its_tournament_and_the_opponent(graphql):
    load_demo_data()
    alice = User.objects.get(username="alice")
    nodes = typed_nodes(graphql, viewer=alice, user=alice)
    [won] = [n for n in nodes if n["__typename"] == "MatchWonEvent" and n["round"] == 2]
    final = Match.objects.get(round=2)
    assert won["match"]["id"] == gid("Match", final.pk)
    assert won["match"]["tournament"]["name"] == "Winter Championship"
    assert won["opponent"] == {
        "__typename": "User",
        "id": gid("User", User.objects.get(username="bob").pk),
        "username": "bob",
    }
    assert won["opponentName"] == "Bob Blitz"
    [team_match] = [n for n in nodes if n["__typename"] == "MatchWonEvent" and n["teamName"]]
    assert team_match["team"]["name"] == "Night Owls"
    assert team_match["opponent"]["__typename"] == "Team"
    assert team_match["opponent"]["name"] == "Dawn Raiders"


def test_a_renamed_tournament_keeps_its_name_then_and_links_the_one_now(graphql):
    registration = RegistrationFactory.create(tournament__name="Winter Cup")
    tournament = registration.tournament
    tournament.name = "Winter Cup (renamed)"
    tournament.save()
    [node] = typed_nodes(graphql, viewer=registration.user, user=registration.user)
    assert node["tournamentName"] == "Winter Cup"
    assert node["tournament"]["name"] == "Winter Cup (renamed)"


def test_an_erased_opponent_is_null_and_its_recorded_name_scrubbed(graphql):
    match = decided(MatchFactory.create())
    winner, loser = match.participant1.user, match.participant2.user
    assert loser is not None
    anonymize_user(user=loser)
    nodes = typed_nodes(graphql, viewer=winner, user=winner)
    match_nodes = [n for n in nodes if n["__typename"].startswith("Match")]
    assert len(match_nodes) == 2
    for node in match_nodes:
        assert node["opponent"] is None
        assert node["opponentName"] == ERASED
        assert node["match"]["id"] == gid("Match", match.pk)


def test_an_erased_players_events_have_no_player_and_only_staff_see_them(graphql):
    registration = RegistrationFactory.create()
    player = registration.user
    assert player is not None
    anonymize_user(user=player)
    event = UserActivity.objects.get(source_model="tournaments.registration")
    query = "query($id: ID!) { node(id: $id) { id ... on ActivityEvent { player { id } } } }"
    variables = {"id": gid("TournamentRegisteredEvent", event.pk)}
    staff = UserFactory.create(is_staff=True)
    assert graphql(query, variables, user=staff)["data"]["node"] == {
        "id": variables["id"],
        "player": None,
    }
    assert graphql(query, variables, user=player)["data"]["node"] is None


def test_objects_deleted_since_are_null_and_the_feed_still_reads(graphql):
    team = TeamFactory.create(name="Short Lived")
    member = MembershipFactory.create(team=team).user
    tournament = TournamentFactory.create(team_size=1)
    match = decided(
        MatchFactory.create(participant1__tournament=tournament, participant1__user=member)
    )
    Match.objects.filter(pk=match.pk).delete()
    team.delete()  # nothing protects a team that never registered (memberships cascade)
    nodes = typed_nodes(graphql, viewer=member, user=member)
    by_type = {n["__typename"]: n for n in nodes}
    assert by_type["MatchWonEvent"]["match"] is None
    assert by_type["MatchWonEvent"]["round"] == match.round  # what it recorded stands
    assert by_type["MatchWonEvent"]["tournament"]["id"] == gid("Tournament", tournament.pk)
    assert by_type["TeamJoinedEvent"]["team"] is None
    assert by_type["TeamJoinedEvent"]["teamName"] == "Short Lived"


TYPED_PAGE = """query($first: Int) { activityFeed(first: $first, filter: {eventTypes: [
    MATCH_PLAYED, MATCH_WON, MATCH_LOST, REVERSAL]}) { edges { node {
  id recordedAt player { username profile { displayName } }
  ... on MatchEvent { round opponentName match { round state tournament { name } }
    tournament { name } team { name members { username } }
    opponent { __typename ... on User { username stats { matchesWon } }
                           ... on Team { name members { username } } } }
  ... on CorrectionEvent { corrects { id ... on MatchEvent { match { round } } } } } } } }"""

TABLE = re.compile(r'FROM "(\w+)"')


def _selects_by_table(graphql: Any, viewer: Any, token: str, first: int) -> Counter[str]:
    """How many SELECTs each table's page read took (bearer token: no session writes)."""
    with CaptureQueriesContext(connection) as queries:
        result = graphql(TYPED_PAGE, {"first": first}, token=token)
    assert "errors" not in result, result
    assert len(result["data"]["activityFeed"]["edges"]) == first
    return Counter(match.group(1) for q in queries if (match := TABLE.search(q["sql"])) is not None)


def _team_registration(tournament: Tournament, captain: Any) -> Registration:
    team = TeamFactory.create(created_by=captain)
    MembershipFactory.create(team=team)
    return RegistrationFactory.create(tournament=tournament, team=team, user=None)


def test_a_page_of_1_and_of_50_typed_events_read_each_kind_of_object_a_fixed_number_of_times(
    graphql,
):
    """Nested match { tournament }, the opponent as a User or a Team (with its members), the
    player, corrections and the events they cancel: one query per kind of object and level,
    whatever the page size (a page of 25 holding the same kinds costs exactly what 50 cost)."""
    player = UserFactory.create()
    _, token = issue_api_token(user=player, name="count")
    for i in range(22):  # solo and team matches against other opponents, corrected results
        tournament = TournamentFactory.create(team_size=1 if i % 2 else 3)
        if i % 2:
            mine = RegistrationFactory.create(tournament=tournament, user=player)
            theirs = RegistrationFactory.create(tournament=tournament)
        else:
            mine = _team_registration(tournament, player)
            theirs = _team_registration(tournament, UserFactory.create())
        match = Match.objects.create(
            tournament=tournament,
            round=i + 1,
            participant1=mine,
            participant2=theirs,
            state="completed",
            winner=theirs,
        )
        if i % 3 == 0:
            match.winner = mine  # a corrected result: reversals of the old outcome
            match.save()
    _selects_by_table(graphql, player, token, 1)  # the bearer token is cached from here on
    one = _selects_by_table(graphql, player, token, 1)
    fifty = _selects_by_table(graphql, player, token, 50)
    assert fifty == _selects_by_table(graphql, player, token, 25)
    assert fifty == {  # and no read of the bearer token: cached (decision 0008)
        "auth_user": 2,  # the subject; players and opponents (with profiles)
        "tournaments_tournament": 1,  # the events' tournaments (a match's: read with it)
        "ledger_useractivity": 3,  # the page; when it was recorded; the cancelled events
        "tournaments_match": 2,  # the events' matches; the cancelled events' matches
        "teams_team": 1,  # sides and opponents
        "teams_teammembership": 1,  # their members (with users and profiles)
        "ledger_userprofilestats": 1,  # opponents' stats
    }
    assert all(count <= fifty[table] for table, count in one.items())
