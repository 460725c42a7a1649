"""Follow counts and the viewer's follows for a batch of users: one query per batch."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from esports.social.selectors import (
    followed_among,
    followers_count_by_user,
    following_count_by_user,
)
from graphql_api.nodes.loaders import ContextLoader


class FollowersCountByUserId(ContextLoader[int, int]):
    @classmethod
    def fetch(cls, keys: list[int]) -> Mapping[int, int]:
        found = followers_count_by_user(user_ids=keys)
        return {key: found.get(key, 0) for key in keys}


class FollowingCountByUserId(ContextLoader[int, int]):
    @classmethod
    def fetch(cls, keys: list[int]) -> Mapping[int, int]:
        found = following_count_by_user(user_ids=keys)
        return {key: found.get(key, 0) for key in keys}


class ViewerFollows(ContextLoader[tuple[int, int], bool]):
    """Keyed (viewer id, user id): whether the viewer follows the user."""

    @classmethod
    def fetch(cls, keys: list[tuple[int, int]]) -> Mapping[tuple[int, int], bool]:
        by_viewer: defaultdict[int, list[int]] = defaultdict(list)
        for viewer_id, user_id in keys:
            by_viewer[viewer_id].append(user_id)
        found: dict[tuple[int, int], bool] = {}
        for viewer_id, user_ids in by_viewer.items():  # one viewer per operation
            followed = followed_among(follower_id=viewer_id, user_ids=user_ids)
            found.update({(viewer_id, pk): pk in followed for pk in user_ids})
        return found
