"""Bearer tokens, stored as SHA-256 digests: a leaked table does not leak a usable token."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiToken(models.Model):
    """One issued token. The plain token is shown once, at issue; only its digest is kept."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=64, blank=True, help_text="What the token is for.")
    prefix = models.CharField(
        max_length=8, help_text="The token's first characters, to tell tokens apart."
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "graphql_api"
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"token {self.prefix}… of user {self.user_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
