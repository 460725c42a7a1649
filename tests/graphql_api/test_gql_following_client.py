"""A third-party client (``gql`` over HTTP) against a live uvicorn server on PostgreSQL follows
every player of the demo history (corrections, a forfeit, a team tournament, coins, a private
player): its followingFeed is exactly what each followed player's own feed shows it, merged
newest first; after unfollowing them all it is empty."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from gql.transport.exceptions import TransportQueryError

from esports.demo import load_demo_data
from tests.factories import UserFactory
from tests.graphql_api import test_gql_typed_client as typed_client
from tests.graphql_api.test_gql_typed_client import Api, token_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]

FOLLOW = """mutation($id: ID!) { followPlayer(input: {userId: $id}) { username viewerFollows } }"""
UNFOLLOW = """mutation($id: ID!) { unfollowPlayer(input: {userId: $id}) { followersCount } }"""
FOLLOWING = """query($after: String) {
  followingFeed(first: 7, after: $after) {
    edges { cursor node { __typename id timestamp player { username } } }
    pageInfo { hasNextPage endCursor } } }"""
OWN_FEED = """query($userId: ID, $after: String) {
  activityFeed(userId: $userId, first: 100, after: $after) {
    edges { node { __typename id timestamp player { username } } }
    pageInfo { hasNextPage endCursor } } }"""


def db_id(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().rpartition(":")[2])


def following_pages(api: Api) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        feed = api.run(FOLLOWING, after=after)["followingFeed"]
        nodes += [edge["node"] for edge in feed["edges"]]
        if not feed["pageInfo"]["hasNextPage"]:
            return nodes
        after = feed["pageInfo"]["endCursor"]


server = typed_client.server


def test_the_following_feed_is_the_followed_players_visible_events_in_order(server):
    load_demo_data()
    UserFactory.create(username="fan")
    players = {
        user.username: user
        for user in get_user_model().objects.exclude(username__in=["fan", "admin"])
    }
    assert {"alice", "bob", "frank"} <= set(players)
    api = Api(server, token_for("fan"))
    try:
        ids = {name: _gid(user) for name, user in players.items()}
        for name, gid in ids.items():
            assert api.run(FOLLOW, id=gid)["followPlayer"] == {
                "username": name,
                "viewerFollows": True,
            }
        # What each player's own feed shows this viewer, merged newest first (frank: private).
        expected: list[dict[str, Any]] = []
        for gid in ids.values():
            expected += api.pages(OWN_FEED, userId=gid)
        expected.sort(key=lambda node: (node["timestamp"], db_id(node["id"])), reverse=True)
        assert "frank" not in {node["player"]["username"] for node in expected}
        assert not any(node["__typename"].startswith("Coins") for node in expected)
        assert {node["__typename"] for node in expected} >= {
            "CorrectionEvent",
            "MatchPlayedEvent",
            "TeamJoinedEvent",
        }
        followed = following_pages(api)
        assert followed == expected
        assert len(followed) >= 20

        for gid in ids.values():
            api.run(UNFOLLOW, id=gid)
        assert api.run(FOLLOWING)["followingFeed"] == {
            "edges": [],
            "pageInfo": {"hasNextPage": False, "endCursor": None},
        }
        with pytest.raises(TransportQueryError) as refused:
            api.run(FOLLOW, id=_gid(get_user_model().objects.get(username="fan")))
        errors = refused.value.errors
        assert errors is not None
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    finally:
        api.close()


def _gid(user: Any) -> str:
    return base64.b64encode(f"User:{user.pk}".encode()).decode()
