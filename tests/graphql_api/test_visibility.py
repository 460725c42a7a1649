"""Who sees what, on single nodes (activityEvent) and on connections (feed, history)."""

from __future__ import annotations

import pytest

from ledger.models import EventType, UserActivity
from tests.factories import RegistrationFactory, UserFactory, transaction_for
from tests.graphql_api.conftest import error_codes, make_events

pytestmark = pytest.mark.django_db

FEED = """query($userId: ID) { activityFeed(userId: $userId) {
  edges { node { id eventType } } } }"""
NODE = "query($id: ID!) { activityEvent(id: $id) { id eventType amount } }"
HISTORY = """query($userId: ID) { tournamentHistory(userId: $userId) {
  edges { node { tournamentId coinsEarned } } } }"""
STATS = "query($userId: ID) { stats(userId: $userId) { achievementsCount totalEarned } }"
ECONOMY = "query($userId: ID) { economySummary(userId: $userId) { earned spent net } }"


@pytest.fixture
def owner():
    """A player with an achievement, a corrected coin transaction and a tournament."""
    user = UserFactory.create(username="owner")
    make_events(user, 1)
    txn = transaction_for(user, 40)
    txn.amount = 25
    txn.save()  # appends a reversal of the 40 and an event of 25
    registration = RegistrationFactory.create(user=user)
    transaction_for(user, 7, reason="participation", tournament=registration.tournament)
    return user


def make_private(user):
    user.profile.activity_public = False
    user.profile.save()


def types_in(result):
    return sorted(e["node"]["eventType"] for e in result["data"]["activityFeed"]["edges"])


ALL = [
    "ACHIEVEMENT_UNLOCKED",
    "COINS_EARNED",
    "COINS_EARNED",
    "COINS_EARNED",
    "REVERSAL",
    "TOURNAMENT_REGISTERED",
]
PUBLIC = ["ACHIEVEMENT_UNLOCKED", "TOURNAMENT_REGISTERED"]


def event_id(user, event_type):
    return str(
        UserActivity.objects.filter(user=user, event_type=event_type).values_list("pk", flat=True)[
            0
        ]
    )


# --- the owner -------------------------------------------------------------------------------


def test_owner_sees_their_whole_feed_economy_and_corrections_included(graphql, owner):
    assert types_in(graphql(FEED, user=owner)) == ALL
    reversal = graphql(NODE, {"id": event_id(owner, EventType.REVERSAL)}, user=owner)
    assert reversal["data"]["activityEvent"]["amount"] == 40
    history = graphql(HISTORY, user=owner)["data"]["tournamentHistory"]["edges"]
    assert [e["node"]["coinsEarned"] for e in history] == [7]
    assert graphql(ECONOMY, user=owner)["data"]["economySummary"] == {
        "earned": 32,
        "spent": 0,
        "net": 32,
    }


def test_owner_sees_their_own_private_feed(graphql, owner):
    make_private(owner)
    assert types_in(graphql(FEED, user=owner)) == ALL


# --- another signed-in user ------------------------------------------------------------------


def test_others_see_a_public_feed_without_economy_events_or_their_corrections(graphql, owner):
    other = UserFactory.create()
    assert types_in(graphql(FEED, {"userId": str(owner.pk)}, user=other)) == PUBLIC


def test_others_cannot_open_an_economy_node_or_its_correction(graphql, owner):
    other = UserFactory.create()
    for event_type in (EventType.COINS_EARNED, EventType.REVERSAL):
        result = graphql(NODE, {"id": event_id(owner, event_type)}, user=other)
        assert result["data"] is None
        assert error_codes(result) == ["NOT_FOUND"]
    visible = graphql(NODE, {"id": event_id(owner, EventType.ACHIEVEMENT_UNLOCKED)}, user=other)
    assert visible["data"]["activityEvent"]["eventType"] == "ACHIEVEMENT_UNLOCKED"


def test_others_see_public_history_without_coins(graphql, owner):
    other = UserFactory.create()
    history = graphql(HISTORY, {"userId": str(owner.pk)}, user=other)
    edges = history["data"]["tournamentHistory"]["edges"]
    assert len(edges) == 1
    assert edges[0]["node"]["coinsEarned"] is None


def test_others_are_refused_the_economy_summary(graphql, owner):
    other = UserFactory.create()
    result = graphql(ECONOMY, {"userId": str(owner.pk)}, user=other)
    assert result["data"] is None
    assert error_codes(result) == ["FORBIDDEN"]


def test_a_private_profile_hides_feed_nodes_and_history_but_not_stats(graphql, owner):
    make_private(owner)
    other = UserFactory.create()
    for query in (FEED, HISTORY):
        result = graphql(query, {"userId": str(owner.pk)}, user=other)
        assert result["data"] is None
        assert error_codes(result) == ["FORBIDDEN"]
        assert "private" in result["errors"][0]["message"]
    node = graphql(NODE, {"id": event_id(owner, EventType.ACHIEVEMENT_UNLOCKED)}, user=other)
    assert error_codes(node) == ["NOT_FOUND"]
    stats = graphql(STATS, {"userId": str(owner.pk)}, user=other)["data"]["stats"]
    assert stats == {"achievementsCount": 1, "totalEarned": 32}


# --- anonymous -------------------------------------------------------------------------------


def test_anonymous_sees_public_data_only(graphql, owner):
    assert types_in(graphql(FEED, {"userId": str(owner.pk)})) == PUBLIC
    assert graphql(STATS, {"userId": str(owner.pk)})["data"]["stats"]["totalEarned"] == 32
    coins = graphql(NODE, {"id": event_id(owner, EventType.COINS_EARNED)})
    assert error_codes(coins) == ["NOT_FOUND"]
    assert error_codes(graphql(ECONOMY, {"userId": str(owner.pk)})) == ["FORBIDDEN"]
    history = graphql(HISTORY, {"userId": str(owner.pk)})["data"]["tournamentHistory"]
    assert history["edges"][0]["node"]["coinsEarned"] is None
    assert graphql("{ me { id } }")["data"]["me"] is None


def test_anonymous_without_user_id_must_sign_in(graphql, owner):
    for query in (FEED, HISTORY, STATS):
        assert error_codes(graphql(query)) == ["UNAUTHENTICATED"]


def test_anonymous_cannot_see_a_private_feed_or_its_nodes(graphql, owner):
    make_private(owner)
    assert error_codes(graphql(FEED, {"userId": str(owner.pk)})) == ["FORBIDDEN"]
    assert error_codes(graphql(HISTORY, {"userId": str(owner.pk)})) == ["FORBIDDEN"]
    achievement = event_id(owner, EventType.ACHIEVEMENT_UNLOCKED)
    assert error_codes(graphql(NODE, {"id": achievement})) == ["NOT_FOUND"]


# --- staff -----------------------------------------------------------------------------------


def test_staff_see_everything_even_on_a_private_profile(graphql, owner):
    make_private(owner)
    staff = UserFactory.create(is_staff=True)
    assert types_in(graphql(FEED, {"userId": str(owner.pk)}, user=staff)) == ALL
    coins = graphql(NODE, {"id": event_id(owner, EventType.COINS_EARNED)}, user=staff)
    assert coins["data"]["activityEvent"]["eventType"] == "COINS_EARNED"
    history = graphql(HISTORY, {"userId": str(owner.pk)}, user=staff)
    assert history["data"]["tournamentHistory"]["edges"][0]["node"]["coinsEarned"] == 7
    economy = graphql(ECONOMY, {"userId": str(owner.pk)}, user=staff)
    assert economy["data"]["economySummary"]["net"] == 32


def test_unknown_event_id_is_not_found_and_a_bad_one_is_bad_input(graphql, owner):
    assert error_codes(graphql(NODE, {"id": "424242"}, user=owner)) == ["NOT_FOUND"]
    assert error_codes(graphql(NODE, {"id": "x1"}, user=owner)) == ["BAD_USER_INPUT"]
