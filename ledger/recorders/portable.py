"""The SQLite recorder: rows travel as a VALUES list, a parameter each value.

The write statements themselves are the ones every recorder runs (``base.Recorder``): plain SQL
that SQLite runs since 3.35. SQLite serializes writers and has no row locks, so there is
nothing to lock in order and nothing a row read earlier in the same process can have missed;
the nightly reconcile is the backstop there (decision 0006).
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import date
from typing import Any, NoReturn

from django.db import models
from django.db.models import Q

from ledger.models import UserActivity
from ledger.recorders.base import M, Recorder


class PortableRecorder(Recorder):
    can_read_ahead = False

    rows_per_statement = 500
    """With 17 parameters a stats row (10 an event), at most 8,501 parameters a statement, well
    below the 32,766 SQLite allows since 3.32."""

    def rows(self, model: type[models.Model], columns: Sequence[str], count: int) -> str:
        """``(SELECT column1 AS a, … FROM (VALUES (%s, …), …)) AS d``: VALUES names its
        columns column1, column2 and so on."""
        named = ", ".join(f"column{i} AS {self.quote(name)}" for i, name in enumerate(columns, 1))
        row = "(" + ", ".join(["%s"] * len(columns)) + ")"
        return f"(SELECT {named} FROM (VALUES {', '.join([row] * count)})) AS d"

    def row_params(
        self, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> list[Any]:
        """The values as the columns' fields store them (JSON as text, timestamps as SQLite
        writes them), row after row."""
        fields = self.fields(model, columns)
        return [
            None if value is None else field.get_db_prep_save(value, self.connection)
            for row in rows
            for field, value in zip(fields, row, strict=True)
        ]

    def hold_users(self, user_ids: Collection[int]) -> None:
        """Nothing to hold: SQLite has no row locks (the reconcile sweep is the backstop)."""

    @contextlib.contextmanager
    def erasure_allowed(self) -> Iterator[None]:
        """Nothing to open: the model layer is SQLite's only guard of the events."""
        yield

    @contextlib.contextmanager
    def archive_removal_allowed(self) -> Iterator[None]:
        """Nothing to open: the model layer is SQLite's only guard of the events."""
        yield

    def in_values(self, model: type[models.Model], field: str, values: Collection[Any]) -> Q:
        return Q(**{f"{field}__in": list(values)})

    def read_versioned(self, queryset: models.QuerySet[M]) -> tuple[list[M], dict[int, str | None]]:
        rows = list(queryset)
        return rows, dict.fromkeys((int(row.pk) for row in rows), None)

    def changed_since_read(
        self, model: type[models.Model], versions: Mapping[int, str | None]
    ) -> set[int]:
        return set()

    def event_months(self) -> list[date]:
        """The months some event falls in: SQLite keeps them all in one table."""
        return list(UserActivity.objects.dates("timestamp", "month"))  # in UTC (TIME_ZONE)

    def partition_months(self) -> None:
        """One table: a read has no months to skip."""
        return None

    def make_event_months(self, months: Collection[date]) -> int:
        """Nothing to make: one table holds every month."""
        return 0

    def detach_event_month(self, month: date) -> NoReturn:
        raise NotImplementedError(
            "SQLite keeps every month in one table: there is no month to detach."
        )
