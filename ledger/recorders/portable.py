"""The SQLite recorder: multi-row VALUES statements, with the rows as parameters.

Its statements are plain SQL (``INSERT … ON CONFLICT … RETURNING``, ``UPDATE … FROM``): they run
on SQLite 3.35+ as on PostgreSQL. SQLite serializes writers and has no row locks, so there is
nothing to lock in order and nothing a row read earlier in the same process can have missed;
the nightly reconcile is the backstop there (decision 0006).
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import Q

from ledger.drafts import NewEvent
from ledger.fold import Delta, Key
from ledger.models import UserActivity
from ledger.projections import CounterProjection
from ledger.recorders.base import (
    EVENT_COLUMNS,
    RETURNED_COLUMNS,
    M,
    Recorder,
    delta_values,
    event_values,
)

ROWS_PER_STATEMENT = 500
"""Rows a statement: with 18 parameters a stats row (10 an event), at most 9,000 parameters,
well below the 32,766 SQLite allows a statement since 3.32."""


class PortableRecorder(Recorder):
    can_read_ahead = False

    def _insert(self, events: Sequence[NewEvent], created_at: datetime) -> list[tuple[Any, ...]]:
        returned: list[tuple[Any, ...]] = []
        for chunk in _chunks(events):
            rows = [
                self._prepared(UserActivity, EVENT_COLUMNS, event_values(event, created_at))
                for event in chunk
            ]
            returned += self._execute(
                f"INSERT INTO {self.table(UserActivity)} ({self.names(EVENT_COLUMNS)}) "
                f"VALUES {_placeholders(rows)} ON CONFLICT DO NOTHING "
                f"RETURNING {', '.join(RETURNED_COLUMNS)}",
                [value for row in rows for value in row],
            )
        return returned

    def _upsert(
        self, projection: CounterProjection, rows: Sequence[tuple[Key, Delta]], now: datetime
    ) -> None:
        columns = [*projection.key, *projection.fields, projection.touched]
        assignments = [*self.sum_into(projection, "excluded"), self.touched(projection)]
        for chunk in _chunks(rows):
            values = [
                self._prepared(projection.model, columns, [*delta_values(projection, *row), now])
                for row in chunk
            ]
            self._execute(
                f"INSERT INTO {self.table(projection.model)} ({self.names(columns)}) "
                f"VALUES {_placeholders(values)} ON CONFLICT ({self.names(projection.key)}) "
                f"DO UPDATE SET {', '.join(assignments)}",
                [value for row in values for value in row],
            )

    def _touch(self, projection: CounterProjection, keys: Sequence[Key], now: datetime) -> None:
        columns = [*projection.key, projection.touched]
        for chunk in _chunks(keys):
            values = [self._prepared(projection.model, columns, [*key, now]) for key in chunk]
            self._execute(
                f"INSERT INTO {self.table(projection.model)} ({self.names(columns)}) "
                f"VALUES {_placeholders(values)} ON CONFLICT ({self.names(projection.key)}) "
                f"DO UPDATE SET {self.touched(projection)}",
                [value for row in values for value in row],
            )

    def _add(
        self, projection: CounterProjection, rows: Sequence[tuple[Key, Delta]], now: datetime
    ) -> None:
        columns = [*projection.key, *projection.fields]
        [stamp] = self._prepared(projection.model, [projection.touched], [now])
        assignments = [*self.sum_into(projection, "d"), f"{self.quote(projection.touched)} = %s"]
        for chunk in _chunks(rows):
            values = [
                self._prepared(projection.model, columns, delta_values(projection, *row))
                for row in chunk
            ]
            self._execute(
                f"WITH d ({self.names(columns)}) AS (VALUES {_placeholders(values)}) "
                f"UPDATE {self.table(projection.model)} SET {', '.join(assignments)} "
                f"FROM d WHERE {self.key_match(projection, 'd')}",
                [*(value for row in values for value in row), stamp],
            )

    def hold_users(self, user_ids: Collection[int]) -> None:
        """Nothing to hold: SQLite has no row locks (the reconcile sweep is the backstop)."""

    @contextlib.contextmanager
    def erasure_allowed(self) -> Iterator[None]:
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

    def _prepared(
        self, model: type[models.Model], columns: Sequence[str], values: Sequence[Any]
    ) -> list[Any]:
        """The values as the columns' fields store them (JSON as text, timestamps as SQLite
        writes them), to pass as parameters."""
        by_column = {field.column: field for field in model._meta.concrete_fields}
        return [
            None if value is None else by_column[name].get_db_prep_save(value, self.connection)
            for name, value in zip(columns, values, strict=True)
        ]

    def _execute(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall()) if cursor.description else []


def _placeholders(rows: Sequence[Sequence[Any]]) -> str:
    return ", ".join("(" + ", ".join(["%s"] * len(row)) + ")" for row in rows)


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), ROWS_PER_STATEMENT):
        yield items[start : start + ROWS_PER_STATEMENT]
