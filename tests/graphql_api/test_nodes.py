"""node(id:) and nodes(ids:): every kind refetched, the lists' visibility kept, bad ids refused,
and the ids clients pass today (numeric userId, activityEvent(id:)) still accepted."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from esports.achievements.models import Achievement
from esports.demo import load_demo_data
from esports.teams.models import Team
from esports.tournaments.models import Match, Tournament
from graphql_api.nodes.queries import RESOLVERS
from graphql_api.schema import schema
from ledger.models import EventType, UserActivity
from tests.factories import RegistrationFactory, UserFactory, transaction_for
from tests.graphql_api.conftest import error_codes, make_events
from tests.graphql_api.typed_feed import EVENT_FIELDS, event_gid, expected_node, gid

pytestmark = pytest.mark.django_db

User = get_user_model()

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"
FEED = "query($userId: ID) { activityFeed(userId: $userId) { edges { node { id } } } }"


def node(graphql: Any, value: str, **who: Any) -> Any:
    result = graphql(NODE, {"id": value}, **who)
    assert "errors" not in result, result
    return result["data"]["node"]


def test_every_node_type_in_the_schema_can_be_refetched():
    implementing = {
        name
        for name, graphql_type in schema._schema.type_map.items()
        if any(i.name == "Node" for i in getattr(graphql_type, "interfaces", []))
        and not hasattr(graphql_type, "resolve_type")  # object types, not interfaces
    }
    assert implementing == set(RESOLVERS)


def test_node_refetches_every_kind_of_object_and_event(graphql):
    load_demo_data()
    staff = UserFactory.create(username="ops", is_staff=True)
    objects = [
        ("User", User.objects.get(username="alice").pk),
        ("Tournament", Tournament.objects.get(name="Winter Championship").pk),
        ("Match", Match.objects.filter(round=2).get().pk),
        ("Team", Team.objects.get(name="Night Owls").pk),
        ("Achievement", Achievement.objects.get(code="champion").pk),
    ]
    events = [
        UserActivity.objects.filter(event_type=event_type).order_by("id").first()
        for event_type in EventType.values
    ]
    ids = [gid(name, pk) for name, pk in objects] + [event_gid(e) for e in events if e]
    assert len(ids) == len(RESOLVERS)  # one of each kind
    for value in ids:
        found = node(graphql, value, user=staff)
        assert found == {"__typename": base64.b64decode(value).decode().split(":")[0], "id": value}
    result = graphql(NODES, {"ids": ids}, user=staff)
    assert [n["id"] for n in result["data"]["nodes"]] == ids


def test_platform_objects_and_users_are_public(graphql):
    load_demo_data()
    frank = User.objects.get(username="frank")  # private activity; his profile is public
    assert not frank.profile.activity_public
    query = """query($id: ID!) { node(id: $id) { ... on User { username profile { displayName }
      stats { matchesLost } } } }"""
    found = graphql(query, {"id": gid("User", frank.pk)})["data"]["node"]
    assert found == {
        "username": "frank",
        "profile": {"displayName": "Frank Flick"},
        "stats": {"matchesLost": 1},
    }
    team = Team.objects.get(name="Dawn Raiders")
    query = "query($id: ID!) { node(id: $id) { ... on Team { name members { username } } } }"
    members = graphql(query, {"id": gid("Team", team.pk)})["data"]["node"]["members"]
    assert [m["username"] for m in members] == ["carol", "dave"]  # frank left


@pytest.fixture
def private_player():
    player = UserFactory.create(username="hidden")
    player.profile.activity_public = False
    player.profile.save()
    make_events(player, 1, metadata={"achievement_code": "x", "achievement_name": "X"})
    return player


def test_a_private_players_events_are_null_to_others_as_in_the_feed(graphql, private_player):
    event = UserActivity.objects.get(user=private_player)
    value = event_gid(event)
    other = UserFactory.create()
    assert error_codes(graphql(FEED, {"userId": str(private_player.pk)}, user=other)) == [
        "FORBIDDEN"
    ]
    assert node(graphql, value, user=other) is None
    assert node(graphql, value) is None  # anonymous
    assert node(graphql, value, user=private_player) == {
        "__typename": "AchievementUnlockedEvent",
        "id": value,
    }
    assert node(graphql, value, user=UserFactory.create(is_staff=True)) is not None


def test_economy_events_and_their_corrections_only_to_the_owner_and_staff(graphql):
    player = UserFactory.create()  # public profile
    txn = transaction_for(player, 40)
    txn.amount = 25
    txn.save()  # a correction of the 40 and an event of 25
    coin_events = UserActivity.objects.filter(user=player).order_by("id")
    ids = [event_gid(e) for e in coin_events]
    assert [e.event_type for e in coin_events] == [
        EventType.COINS_EARNED,
        EventType.REVERSAL,
        EventType.COINS_EARNED,
    ]
    other = UserFactory.create()
    feed = graphql(FEED, {"userId": str(player.pk)}, user=other)["data"]["activityFeed"]
    assert feed["edges"] == []  # the list hides them ...
    assert graphql(NODES, {"ids": ids}, user=other)["data"]["nodes"] == [None, None, None]
    mine = graphql(NODES, {"ids": ids}, user=player)["data"]["nodes"]  # ... the owner sees them
    assert [n["id"] for n in mine] == ids
    correction = """query($id: ID!) { node(id: $id) { ... on CorrectionEvent {
      correctedEventType corrects { id ... on CoinsEarnedEvent { amount } } } } }"""
    assert graphql(correction, {"id": ids[1]}, user=player)["data"]["node"] == {
        "correctedEventType": "COINS_EARNED",
        "corrects": {"id": ids[0], "amount": 40},
    }


def test_nodes_keeps_the_order_and_nulls_what_is_missing_or_hidden(graphql, private_player):
    tournament = RegistrationFactory.create().tournament
    hidden = event_gid(UserActivity.objects.get(user=private_player))
    ids = [
        gid("Tournament", tournament.pk),
        gid("Tournament", 999_999),  # not found
        hidden,  # not visible
        gid("User", private_player.pk),
        gid("Tournament", tournament.pk),  # asked twice: shown twice
    ]
    found = graphql(NODES, {"ids": ids}, user=UserFactory.create())["data"]["nodes"]
    assert found == [
        {"__typename": "Tournament", "id": ids[0]},
        None,
        None,
        {"__typename": "User", "id": ids[3]},
        {"__typename": "Tournament", "id": ids[0]},
    ]


def test_an_event_id_under_another_event_types_name_finds_nothing(graphql):
    player = UserFactory.create()
    make_events(player, 1, metadata={"achievement_code": "x", "achievement_name": "X"})
    event = UserActivity.objects.get(user=player)
    assert node(graphql, gid("TeamJoinedEvent", event.pk), user=player) is None
    assert node(graphql, gid("AchievementUnlockedEvent", event.pk), user=player) is not None


def test_nodes_reads_each_kind_once_however_many_ids(graphql):
    load_demo_data()
    staff = UserFactory.create(is_staff=True)
    events = list(UserActivity.objects.order_by("id"))
    users = list(User.objects.all())

    def queries(count: int) -> int:
        ids = [event_gid(e) for e in events[:count]] + [gid("User", u.pk) for u in users[:count]]
        with CaptureQueriesContext(connection) as captured:
            result = graphql(NODES, {"ids": ids}, user=staff)
        assert len(result["data"]["nodes"]) == 2 * count
        return len(captured)

    assert queries(1) == queries(7)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not base64!",
        base64.b64encode(b"no colon").decode(),
        base64.b64encode(b"User:").decode(),
        base64.b64encode(b"User:abc").decode(),
        base64.b64encode(b"User:0").decode(),
        base64.b64encode(b"User:-4").decode(),
        base64.b64encode(b"User:" + b"9" * 30).decode(),
        base64.b64encode(b"Planet:1").decode(),  # no such type
        base64.b64encode(b"\xff\xfe:1").decode(),  # not text
        "7",  # a bare database id is no global ID
    ],
)
def test_a_malformed_or_unknown_id_is_bad_user_input(graphql, value):
    assert error_codes(graphql(NODE, {"id": value})) == ["BAD_USER_INPUT"]
    assert error_codes(graphql(NODES, {"ids": [value]})) == ["BAD_USER_INPUT"]


def test_too_many_ids_at_once_is_bad_user_input(graphql):
    ids = [gid("User", n) for n in range(1, 102)]
    assert error_codes(graphql(NODES, {"ids": ids})) == ["BAD_USER_INPUT"]


# --- the ids clients pass today ---------------------------------------------------------------


STATS = "query($userId: ID) { stats(userId: $userId) { achievementsCount } }"


def test_user_id_arguments_take_a_global_id_or_the_numeric_id(graphql):
    player = UserFactory.create()
    make_events(player, 2)
    for value in (gid("User", player.pk), str(player.pk)):
        result = graphql(STATS, {"userId": value})
        assert result["data"]["stats"]["achievementsCount"] == 2
        feed = graphql(FEED, {"userId": value})["data"]["activityFeed"]["edges"]
        assert len(feed) == 2
    tournament_id = gid("Tournament", RegistrationFactory.create().tournament.pk)
    for wrong in (tournament_id, "abc", base64.b64encode(b"User:x").decode()):
        assert error_codes(graphql(STATS, {"userId": wrong})) == ["BAD_USER_INPUT"]
    assert error_codes(graphql(STATS, {"userId": gid("User", 999_999)})) == ["NOT_FOUND"]


def test_activity_event_takes_the_numeric_or_the_global_id_and_user_has_database_id(graphql):
    player = UserFactory.create()
    make_events(player, 1, metadata={"achievement_code": "x", "achievement_name": "X"})
    event = UserActivity.objects.get(user=player)
    query = "query($id: ID!) { activityEvent(id: $id) { id databaseId } }"
    for value in (str(event.pk), event_gid(event)):
        found = graphql(query, {"id": value}, user=player)["data"]["activityEvent"]
        assert found == {"id": event_gid(event), "databaseId": event.pk}
    assert error_codes(graphql(query, {"id": gid("User", player.pk)}, user=player)) == [
        "BAD_USER_INPUT"
    ]
    me = graphql("{ me { id databaseId } }", user=player)["data"]["me"]
    assert me == {"id": gid("User", player.pk), "databaseId": player.pk}


def test_node_nodes_and_activity_event_read_an_events_links_as_the_feed_does(graphql):
    """Links and a correction's target, read through every way to one event, agree with the
    typed feed's expectation (typed_feed.expected_node)."""
    load_demo_data()
    alice = User.objects.get(username="alice")
    events = list(
        UserActivity.objects.filter(user=alice)
        .select_related("user", "reverses")
        .order_by("-timestamp", "-id")
    )
    ids = [event_gid(e) for e in events]
    fields = EVENT_FIELDS
    by_nodes = graphql(
        f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on ActivityEvent {{ {fields} }} }} }}",
        {"ids": ids},
        user=alice,
    )["data"]["nodes"]
    assert by_nodes == [expected_node(e) for e in events]
    match_won = next(e for e in events if e.event_type == EventType.MATCH_WON)
    for query in (
        f"query($id: ID!) {{ node(id: $id) {{ ... on ActivityEvent {{ {fields} }} }} }}",
        f"query($id: ID!) {{ activityEvent(id: $id) {{ {fields} }} }}",
    ):
        [found] = graphql(query, {"id": event_gid(match_won)}, user=alice)["data"].values()
        assert found == expected_node(match_won)
    correction = next(e for e in events if e.event_type == EventType.REVERSAL)
    nested = """query($id: ID!) { node(id: $id) { ... on CorrectionEvent { corrects {
      ... on MatchEvent { round match { round tournament { name } } opponent { __typename } } }
    } } }"""
    cancelled = correction.reverses
    assert graphql(nested, {"id": event_gid(correction)}, user=alice)["data"]["node"] == {
        "corrects": {
            "round": cancelled.metadata["round"],
            "match": {"round": 2, "tournament": {"name": "Winter Championship"}},
            "opponent": {"__typename": "User"},
        }
    }
