"""The PostgreSQL recorder: each statement reads its rows from one JSON parameter.

The SQL text is the same whatever the batch size: no per-row placeholders to build, parse and
quote one by one (measured: that, not the database, was most of a 1,000-event batch). Rows are
locked as PostgreSQL can: projection rows in key order, users FOR KEY SHARE against an erasure,
a backfill batch's source rows FOR SHARE with their versions (``xmin``) checked.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

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

_ROW_VERSION = "_ledger_row_version"
"""The attribute ``read_versioned`` sets on each row: PostgreSQL's ``xmin``, which changes with
every committed update of the row."""


class PostgreSQLRecorder(Recorder):
    can_read_ahead = True

    def _insert(self, events: Sequence[NewEvent], created_at: datetime) -> list[tuple[Any, ...]]:
        encoder = UserActivity._meta.get_field("metadata").encoder
        rows = [
            dict(zip(EVENT_COLUMNS, map(_json_value, event_values(event, created_at)), strict=True))
            for event in events
        ]
        columns = ", ".join(self.quote(name) for name in EVENT_COLUMNS)
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {self.table(UserActivity)} ({columns}) SELECT {columns} "
                f"FROM {self._recordset(UserActivity, EVENT_COLUMNS, 'r')} "
                "ON CONFLICT DO NOTHING "
                f"RETURNING {', '.join(RETURNED_COLUMNS)}",
                [json.dumps(rows, cls=encoder)],
            )
            return list(cursor.fetchall())

    def _upsert(
        self, projection: CounterProjection, rows: Sequence[tuple[Key, Delta]], now: datetime
    ) -> None:
        columns = [*projection.key, *projection.fields]
        proposed = ", ".join(f"d.{self.quote(name)}" for name in columns)
        assignments = [*self.sum_into(projection, "excluded"), self.touched(projection)]
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {self.table(projection.model)} "
                f"({self.names([*columns, projection.touched])}) "
                f"SELECT {proposed}, %s FROM {self._recordset(projection.model, columns, 'd')} "
                f"ORDER BY {self.names(projection.key, 'd.')} "
                f"ON CONFLICT ({self.names(projection.key)}) "
                f"DO UPDATE SET {', '.join(assignments)}",
                [now, self._json_rows(columns, [delta_values(projection, *row) for row in rows])],
            )

    def _touch(self, projection: CounterProjection, keys: Sequence[Key], now: datetime) -> None:
        key = projection.key
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {self.table(projection.model)} "
                f"({self.names([*key, projection.touched])}) "
                f"SELECT {self.names(key, 'd.')}, %s "
                f"FROM {self._recordset(projection.model, key, 'd')} "
                f"ORDER BY {self.names(key, 'd.')} "
                f"ON CONFLICT ({self.names(key)}) DO UPDATE SET {self.touched(projection)}",
                [now, self._json_rows(key, keys)],
            )

    def _add(
        self, projection: CounterProjection, rows: Sequence[tuple[Key, Delta]], now: datetime
    ) -> None:
        columns = [*projection.key, *projection.fields]
        assignments = [*self.sum_into(projection, "d"), f"{self.quote(projection.touched)} = %s"]
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {self.table(projection.model)} SET {', '.join(assignments)} "
                f"FROM {self._recordset(projection.model, columns, 'd')} "
                f"WHERE {self.key_match(projection, 'd')}",
                [now, self._json_rows(columns, [delta_values(projection, *row) for row in rows])],
            )

    def hold_users(self, user_ids: Collection[int]) -> None:
        """FOR KEY SHARE on the users' rows, in id order. ``anonymize_user`` takes the user's row
        FOR UPDATE before it erases: the two conflict, so a save either finishes before an
        erasure starts (whose re-pointing then catches its events) or checks after it committed
        (and records nothing for the user). KEY SHARE is the lock the events' foreign key takes
        anyway: it blocks no other recording, nor any update of the user but deletion."""
        if not user_ids:
            return
        user_model = UserActivity._meta.get_field("user").related_model
        assert isinstance(user_model, type)
        table, pk = self.table(user_model), self.quote(str(user_model._meta.pk.column))
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {pk} FROM {table} WHERE {pk} = ANY(string_to_array(%s, ',')::bigint[]) "
                f"ORDER BY {pk} FOR KEY SHARE",
                [",".join(str(int(user_id)) for user_id in sorted(user_ids))],
            )

    @contextlib.contextmanager
    def erasure_allowed(self) -> Iterator[None]:
        """``SET LOCAL ledger.erasure`` on for the block (the immutability trigger reads it),
        off again after it."""
        with self.connection.cursor() as cursor:
            cursor.execute("SET LOCAL ledger.erasure = 'on'")
        yield
        with self.connection.cursor() as cursor:
            cursor.execute("SET LOCAL ledger.erasure = 'off'")

    def in_values(self, model: type[models.Model], field: str, values: Collection[Any]) -> RawSQL:
        """``= ANY`` of one text parameter (integers joined by commas, other values as a JSON
        array), where a batch of 2,000 ids otherwise builds, parses and quotes 2,000
        placeholders, or dumps a 2,000-element array in Python (measured: 3.6 ms for 2,000
        digests as an array, 0.2 ms as JSON text)."""
        concrete = model._meta.get_field(field)
        assert isinstance(concrete, models.Field)
        column = f"{self.table(model)}.{self.quote(str(concrete.column))}"
        if isinstance(concrete, models.IntegerField):
            array = f"string_to_array(%s, ',')::{concrete.db_type(self.connection)}[]"
            param = ",".join(str(int(value)) for value in values)
        else:
            array = "ARRAY(SELECT json_array_elements_text(%s::json))"
            param = json.dumps(list(values))
        return RawSQL(f"{column} = ANY({array})", (param,), BooleanField())

    def read_versioned(self, queryset: models.QuerySet[M]) -> tuple[list[M], dict[int, str | None]]:
        table = self.table(queryset.model)
        rows = list(queryset.annotate(**{_ROW_VERSION: RawSQL(f"{table}.xmin::text", ())}))
        return rows, {int(row.pk): getattr(row, _ROW_VERSION) for row in rows}

    def changed_since_read(
        self, model: type[models.Model], versions: Mapping[int, str | None]
    ) -> set[int]:
        """FOR SHARE in primary-key order: updates of the rows wait for this transaction's
        commit; readers and other share-lockers do not."""
        table, pk = self.table(model), self.quote(str(model._meta.pk.column))
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {pk}, xmin::text FROM {table} WHERE {pk} = ANY(%s) "
                f"ORDER BY {pk} FOR SHARE",
                [list(versions)],
            )
            current = {int(row_pk): version for row_pk, version in cursor.fetchall()}
        return {pk for pk, version in versions.items() if current.get(pk) != version}

    def _recordset(self, model: type[models.Model], columns: Sequence[str], alias: str) -> str:
        """``json_to_recordset(%s::json) AS alias(column type, …)``, typed as the model's."""
        by_column = {field.column: field for field in model._meta.concrete_fields}
        types = ", ".join(
            f"{self.quote(name)} {by_column[name].db_type(self.connection)}" for name in columns
        )
        return f"json_to_recordset(%s::json) AS {alias}({types})"

    def _json_rows(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
        return json.dumps([dict(zip(columns, map(_json_value, row), strict=True)) for row in rows])


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
