"""Who sees what: one place for the visibility rules of the issue ("Who sees what").

- a signed-in user sees their own feed, stats and history;
- another user's feed and history only when that profile has ``activity_public``;
- economy events and the economy summary only for the owner and staff;
- stats are public; anonymous callers see public data only; staff see everything.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, AnonymousUser

from graphql_api.errors import Forbidden, Unauthenticated

Viewer = AbstractUser | AnonymousUser
"""Who asks: a signed-in user (the rules read ``is_staff``, which ``AbstractUser`` defines), or
nobody."""


def is_staff(viewer: Viewer) -> bool:
    return bool(viewer.is_authenticated and viewer.is_staff)


def is_owner_or_staff(viewer: Viewer, owner_id: int | None) -> bool:
    if is_staff(viewer):
        return True
    return bool(viewer.is_authenticated and owner_id is not None and viewer.pk == owner_id)


def can_see_activity(viewer: Viewer, *, owner_id: int | None, activity_public: bool) -> bool:
    """Feed and history: the owner, staff, or anyone when the profile is public."""
    return is_owner_or_staff(viewer, owner_id) or (owner_id is not None and activity_public)


def can_see_economy(viewer: Viewer, *, owner_id: int | None) -> bool:
    return is_owner_or_staff(viewer, owner_id)


def require_activity(viewer: Viewer, *, owner_id: int, activity_public: bool) -> None:
    if not can_see_activity(viewer, owner_id=owner_id, activity_public=activity_public):
        raise Forbidden("This player's activity is private.")


def require_economy(viewer: Viewer, *, owner_id: int) -> None:
    if not can_see_economy(viewer, owner_id=owner_id):
        raise Forbidden("Only the player and staff may see a player's economy.")


def require_signed_in(viewer: Viewer) -> AbstractUser:
    """The viewer, signed in; Unauthenticated for nobody."""
    if not viewer.is_authenticated:
        raise Unauthenticated("Sign in (session or bearer token) to do this.")
    return viewer


def require_staff(viewer: Viewer) -> AbstractUser:
    """The viewer, staff; Unauthenticated for nobody, Forbidden for anyone else."""
    user = require_signed_in(viewer)
    if not user.is_staff:
        raise Forbidden("Only staff may do this.")
    return user
