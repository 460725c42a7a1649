"""Follow and unfollow: idempotent writes of the one relation."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q

from esports.social.models import Follow


class CannotFollowSelf(ValueError):
    """A player cannot follow themselves (the database refuses it too)."""


class NoSuchPlayer(LookupError):
    """The player to follow does not exist."""


def follow_player(*, follower_id: int, followed_id: int) -> bool:
    """Make ``follower_id`` follow ``followed_id``; True if this created the follow, False if it
    already existed. Safe under concurrent calls: the unique constraint decides."""
    if follower_id == followed_id:
        raise CannotFollowSelf("You cannot follow yourself.")
    # Checked first: PostgreSQL defers foreign keys to the outermost commit.
    if not get_user_model().objects.filter(pk=followed_id).exists():
        raise NoSuchPlayer(f"No player with id {followed_id}.")
    try:
        with transaction.atomic():
            _, created = Follow.objects.get_or_create(
                follower_id=follower_id, followed_id=followed_id
            )
    except IntegrityError:  # a concurrent follow of the same pair committed first
        return False
    return created


def unfollow_player(*, follower_id: int, followed_id: int) -> bool:
    """Stop following; True if a follow was removed, False if there was none."""
    deleted, _ = Follow.objects.filter(follower_id=follower_id, followed_id=followed_id).delete()
    return deleted > 0


def erase_follows(*, user_id: int) -> int:
    """Delete every follow of and by ``user_id`` (GDPR erasure reaches both directions)."""
    deleted, _ = Follow.objects.filter(Q(follower_id=user_id) | Q(followed_id=user_id)).delete()
    return deleted
