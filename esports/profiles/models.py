"""Player profiles: one per user, created with the user."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from esports.common import ValidatedModel


class UserProfile(ValidatedModel):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    display_name = models.CharField(max_length=64, blank=True)
    activity_public = models.BooleanField(
        default=True, help_text="Whether others may see this player's activity feed and history."
    )

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.user.get_username()


def describe_user(user: Any) -> dict[str, Any]:
    """How an event's metadata names a person: by id, so erasure can find and scrub it."""
    profile = getattr(user, "profile", None)
    return {
        "user_id": user.pk,
        "username": user.get_username(),
        "display_name": (profile.display_name if profile else "") or user.get_username(),
    }
