"""Achievements and who unlocked them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from esports.common import ValidatedModel


class Achievement(ValidatedModel):
    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=128)
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


class UserAchievement(ValidatedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="achievements"
    )
    achievement = models.ForeignKey(Achievement, on_delete=models.PROTECT, related_name="unlocks")
    unlocked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "achievement"], name="achievements_unlocked_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.achievement_id} by {self.user_id}"
