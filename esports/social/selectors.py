"""Reads of follows: counts for a batch of users, whether a viewer follows them, and the players
whose activity a viewer's following feed shows."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, QuerySet

from esports.profiles.models import UserProfile
from esports.social.models import Follow


def followers_count_by_user(*, user_ids: Collection[int]) -> dict[int, int]:
    """How many follow each user (absent: none), in one query."""
    return _follows_by("followed_id", user_ids)


def following_count_by_user(*, user_ids: Collection[int]) -> dict[int, int]:
    """How many each user follows (absent: none), in one query."""
    return _follows_by("follower_id", user_ids)


def _follows_by(side: str, user_ids: Collection[int]) -> dict[int, int]:
    """The number of follows whose ``side`` column is each of ``user_ids`` (absent: none)."""
    rows = (
        Follow.objects.filter(**{f"{side}__in": list(user_ids)})
        .order_by()
        .values(side)
        .annotate(n=Count("id"))
        .values_list(side, "n")
    )
    return dict(rows)


def followed_among(*, follower_id: int, user_ids: Collection[int]) -> set[int]:
    """Which of ``user_ids`` ``follower_id`` follows, in one query."""
    return set(
        Follow.objects.filter(follower_id=follower_id, followed_id__in=list(user_ids)).values_list(
            "followed_id", flat=True
        )
    )


def followed_ids(*, follower_id: int) -> list[int]:
    """Everyone ``follower_id`` follows."""
    return list(
        Follow.objects.filter(follower_id=follower_id).values_list("followed_id", flat=True)
    )


def shown_followed_ids(*, follower_id: int) -> QuerySet[Any]:
    """The players ``follower_id`` follows whose activity is public, as rows of ``user_id``: a
    subquery for the following feed (a private player's events never appear there, decision
    0023). The profile is probed by the follow's own column: no join through the user."""
    public = UserProfile.objects.filter(user_id=OuterRef("followed_id"), activity_public=True)
    return (
        Follow.objects.filter(follower_id=follower_id)
        .filter(Exists(public))
        .values(user_id=F("followed_id"))
    )


def follows_of(*, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Whom ``user_id`` follows and who follows them, oldest first (their GDPR export)."""
    following = Follow.objects.filter(follower_id=user_id).order_by("created_at", "id")
    followers = Follow.objects.filter(followed_id=user_id).order_by("created_at", "id")
    return {
        "following": [
            {"user_id": pk, "username": name, "since": since}
            for pk, name, since in following.values_list(
                "followed_id", "followed__username", "created_at"
            )
        ],
        "followers": [
            {"user_id": pk, "username": name, "since": since}
            for pk, name, since in followers.values_list(
                "follower_id", "follower__username", "created_at"
            )
        ],
    }
