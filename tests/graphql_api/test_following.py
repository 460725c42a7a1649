"""followPlayer / unfollowPlayer, User's follow fields, and followingFeed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from esports.social.models import Follow
from ledger.models import EventType, UserActivity
from tests.factories import UserFactory
from tests.graphql_api.conftest import BASE_TIME, db_id, error_codes, global_id, make_events

pytestmark = pytest.mark.django_db

FOLLOW = """
mutation($userId: ID!) {
  followPlayer(input: {userId: $userId}) { id followersCount viewerFollows }
}
"""
UNFOLLOW = """
mutation($userId: ID!) {
  unfollowPlayer(input: {userId: $userId}) { id followersCount viewerFollows }
}
"""
FOLLOWS = """
query($ids: [ID!]!) {
  nodes(ids: $ids) { ... on User { username followersCount followingCount viewerFollows } }
}
"""
FEED = """
query($first: Int, $after: String) {
  followingFeed(first: $first, after: $after) {
    edges { cursor node { __typename id timestamp player { username }
                          ... on CorrectionEvent { correctedEventType } } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


def uid(user: Any) -> str:
    return global_id("User", user.pk)


def test_follow_is_idempotent_and_answers_the_followed_player(graphql):
    ann, bob = UserFactory.create(), UserFactory.create()
    for _ in range(2):
        result = graphql(FOLLOW, {"userId": uid(bob)}, user=ann)
        assert result["data"]["followPlayer"] == {
            "id": uid(bob),
            "followersCount": 1,
            "viewerFollows": True,
        }
    assert list(Follow.objects.values_list("follower_id", "followed_id")) == [(ann.pk, bob.pk)]
    for _ in range(2):
        result = graphql(UNFOLLOW, {"userId": str(bob.pk)}, user=ann)  # a numeric id, deprecated
        assert result["data"]["unfollowPlayer"] == {
            "id": uid(bob),
            "followersCount": 0,
            "viewerFollows": False,
        }
    assert Follow.objects.count() == 0


def test_following_yourself_is_bad_input(graphql):
    ann = UserFactory.create()
    result = graphql(FOLLOW, {"userId": uid(ann)}, user=ann)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["message"] == "You cannot follow yourself."
    assert Follow.objects.count() == 0


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("not-an-id", "BAD_USER_INPUT"),
        (global_id("Match", 1), "BAD_USER_INPUT"),
        (global_id("User", 999_999), "NOT_FOUND"),
    ],
)
def test_bad_or_unknown_ids_are_client_errors(graphql, value, code):
    ann = UserFactory.create()
    for mutation in (FOLLOW, UNFOLLOW):
        assert error_codes(graphql(mutation, {"userId": value}, user=ann)) == [code]
    assert Follow.objects.count() == 0


def test_anonymous_callers_cannot_follow_and_never_follow(graphql):
    bob = UserFactory.create()
    for mutation in (FOLLOW, UNFOLLOW):
        assert error_codes(graphql(mutation, {"userId": uid(bob)})) == ["UNAUTHENTICATED"]
    result = graphql(FOLLOWS, {"ids": [uid(bob)]})
    assert result["data"]["nodes"][0]["viewerFollows"] is False
    assert error_codes(graphql(FEED, {})) == ["UNAUTHENTICATED"]


def test_counts_and_viewer_follows_for_a_list_of_users_in_a_fixed_number_of_queries(graphql):
    users = [UserFactory.create() for _ in range(6)]
    viewer = users[0]
    for follower, followed in ((0, 1), (0, 2), (3, 1), (1, 0), (4, 1)):
        Follow.objects.create(follower=users[follower], followed=users[followed])

    def run(ids):
        with CaptureQueriesContext(connection) as queries:
            result = graphql(FOLLOWS, {"ids": ids}, user=viewer)
        return result["data"]["nodes"], len(queries)

    small, small_queries = run([uid(u) for u in users[:2]])
    everyone, queries = run([uid(u) for u in users])
    assert queries == small_queries
    assert [(n["followersCount"], n["followingCount"], n["viewerFollows"]) for n in everyone] == [
        (1, 2, False),
        (3, 1, True),
        (1, 0, True),
        (0, 1, False),
        (0, 1, False),
        (0, 0, False),
    ]
    assert small == everyone[:2]


@pytest.fixture
def followed():
    """ann follows bob (public: matches, a correction, coins), cid (private) and dan (public,
    nothing yet); eve is not followed."""
    ann, bob, cid, dan, eve = (UserFactory.create() for _ in range(5))
    cid.profile.activity_public = False
    cid.profile.save()
    make_events(bob, 4, event_type=EventType.MATCH_PLAYED, source_model="tests.bob")
    make_events(
        bob,
        2,
        event_type=EventType.COINS_EARNED,
        amount=10,
        start=BASE_TIME + timedelta(seconds=30),
        source_model="tests.coins",
    )
    make_events(cid, 3, source_model="tests.cid")
    make_events(eve, 3, source_model="tests.eve")
    for user in (bob, cid, dan):
        Follow.objects.create(follower=ann, followed=user)
    return ann, bob, cid, dan, eve


def visible_ids(*users: Any) -> list[int]:
    return list(
        UserActivity.objects.filter(user__in=users)
        .exclude(event_type__in=[EventType.COINS_EARNED, EventType.COINS_SPENT])
        .order_by("-timestamp", "-id")
        .values_list("id", flat=True)
    )


def walk(graphql, viewer, first):
    seen, after = [], None
    while True:
        page = graphql(FEED, {"first": first, "after": after}, user=viewer)["data"]["followingFeed"]
        seen += page["edges"]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


def test_the_feed_is_the_public_followed_players_visible_events_newest_first(graphql, followed):
    ann, bob, _cid, dan, _eve = followed
    make_events(dan, 3, start=BASE_TIME - timedelta(days=1), source_model="tests.dan")
    expected = visible_ids(bob, dan)
    assert len(expected) == 7
    for first in (2, 3, 50):
        edges = walk(graphql, ann, first)
        assert [db_id(e["node"]["id"]) for e in edges] == expected
    assert {e["node"]["player"]["username"] for e in edges} == {bob.username, dan.username}
    assert {e["node"]["__typename"] for e in edges} == {
        "MatchPlayedEvent",
        "AchievementUnlockedEvent",
    }


def test_a_new_follower_sees_history_and_an_unfollow_empties_it(graphql, followed):
    ann, bob, cid, dan, eve = followed
    graphql(FOLLOW, {"userId": uid(eve)}, user=ann)
    edges = walk(graphql, ann, 50)
    assert [db_id(e["node"]["id"]) for e in edges] == visible_ids(bob, eve)
    for user in (bob, cid, dan, eve):
        graphql(UNFOLLOW, {"userId": uid(user)}, user=ann)
    page = graphql(FEED, {}, user=ann)["data"]["followingFeed"]
    assert page == {
        "edges": [],
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "endCursor": None},
    }


def test_a_player_who_turns_private_leaves_the_feed_even_for_staff(graphql, followed):
    ann, bob, cid, _dan, _eve = followed
    bob.profile.activity_public = False
    bob.profile.save()
    assert graphql(FEED, {}, user=ann)["data"]["followingFeed"]["edges"] == []
    staff = UserFactory.create(is_staff=True)
    Follow.objects.create(follower=staff, followed=cid)
    assert graphql(FEED, {}, user=staff)["data"]["followingFeed"]["edges"] == []


def test_a_cursor_of_another_connection_or_a_huge_page_is_bad_input(graphql, followed):
    ann = followed[0]
    assert error_codes(graphql(FEED, {"first": 101}, user=ann)) == ["BAD_USER_INPUT"]
    assert error_codes(graphql(FEED, {"after": "bm9wZQ=="}, user=ann)) == ["BAD_USER_INPUT"]


def test_a_page_runs_a_fixed_number_of_queries(graphql, followed):
    ann, _bob, _cid, _dan, _eve = followed

    def count(first):
        with CaptureQueriesContext(connection) as queries:
            page = graphql(FEED, {"first": first}, user=ann)["data"]["followingFeed"]
        return len(page["edges"]), len(queries)

    one, few = count(1)
    four, same = count(4)
    assert (one, four) == (1, 4)
    assert few == same
