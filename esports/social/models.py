"""Who follows whom: a relation of the platform, not an event of the ledger (decision 0023)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Follow(models.Model):
    """``follower`` follows ``followed``; at most once, never oneself (database constraints)."""

    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="following_set"
    )
    followed = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follower_set"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followed"], name="social_follow_once"),
            models.CheckConstraint(
                condition=~models.Q(follower=models.F("followed")), name="social_follow_not_self"
            ),
        ]
        indexes = [
            # followersCount and "who follows X" (the unique constraint covers follower first).
            models.Index(fields=["followed", "follower"], name="social_follow_followed"),
        ]

    def __str__(self) -> str:
        return f"{self.follower_id} follows {self.followed_id}"
