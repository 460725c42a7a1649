"""What every platform model shares: validated, atomic saves."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction


class ValidatedModel(models.Model):
    """Validates before writing and saves in one transaction with the ledger's receivers (I5).

    Bad input raises ``ValidationError`` before anything is written. Foreign-key existence is left
    to the database's constraint rather than one query per key.
    """

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        relations = [f.name for f in self._meta.concrete_fields if f.is_relation]
        self.clean_fields(exclude=relations)
        self.clean()
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)
