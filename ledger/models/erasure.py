"""Erased subjects: how the ledger remembers a GDPR erasure without keeping who it was."""

from __future__ import annotations

import functools
import hashlib
import hmac
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


def user_digest(user_id: int) -> str:
    """A keyed one-way digest of a user id: enough to recognise the user again, not to name them."""
    return _keyed_digest(settings.LEDGER_ERASURE_KEY, user_id)


@functools.lru_cache(maxsize=65_536)
def _keyed_digest(key: str, user_id: int) -> str:
    """Cached: every recorded batch checks its users against erased subjects (backfill: ~2,000
    users a batch, the same ones again and again). Keyed by the key: a rotated key is honoured."""
    return hmac.new(
        key.encode(), f"ledger-erased-user:{user_id}".encode(), hashlib.sha256
    ).hexdigest()


class ErasedSubject(models.Model):
    """The anonymous owner of an erased user's events (GDPR Article 17)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user_digest = models.CharField(max_length=64, unique=True, editable=False)
    erased_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"erased subject {self.public_id}"
