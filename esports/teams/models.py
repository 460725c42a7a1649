"""Teams and their memberships over time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from esports.common import ValidatedModel


class Team(ValidatedModel):
    name = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="created_teams"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A team's creator is its first member, from the moment it exists."""
        creating = self._state.adding
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)
            if creating:
                TeamMembership.objects.create(
                    team=self, user_id=self.created_by_id, joined_at=self.created_at
                )

    def member_ids_at(self, moment: datetime) -> list[int]:
        """Who was on the team at ``moment`` (reads prefetched memberships when there are any)."""
        return sorted(
            m.user_id
            for m in self.memberships.all()
            if m.joined_at <= moment and (m.left_at is None or m.left_at > moment)
        )


class TeamMembership(ValidatedModel):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="team_memberships"
    )
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["team", "user"],
                condition=Q(left_at__isnull=True),
                name="teams_one_current_membership",
            ),
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(left_at__gte=F("joined_at")),
                name="teams_left_after_joined",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.team_id}"

    def clean(self) -> None:
        if self.left_at is not None and self.joined_at and self.left_at < self.joined_at:
            raise ValidationError({"left_at": "A member cannot leave before joining."})
