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

from ledger.models import UserActivity
from ledger.recorders.base import M, Recorder

_ROW_VERSION = "_ledger_row_version"
"""The attribute ``read_versioned`` sets on each row: PostgreSQL's ``xmin``, which changes with
every committed update of the row."""


class PostgreSQLRecorder(Recorder):
    can_read_ahead = True

    rows_per_statement = None

    def rows(self, model: type[models.Model], columns: Sequence[str], count: int) -> str:
        """``json_to_recordset(%s::json) AS d(column type, …)``, typed as the model's columns."""
        types = ", ".join(
            f"{self.quote(name)} {field.db_type(self.connection)}"
            for name, field in zip(columns, self.fields(model, columns), strict=True)
        )
        return f"json_to_recordset(%s::json) AS d({types})"

    def row_params(
        self, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> list[Any]:
        return [
            json.dumps([dict(zip(columns, map(_json_value, row), strict=True)) for row in rows])
        ]

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

    @contextlib.contextmanager
    def archive_removal_allowed(self) -> Iterator[None]:
        """``SET LOCAL ledger.archive`` on for the block (the immutability trigger lets it
        delete, migration 0200), off again after it."""
        with self.connection.cursor() as cursor:
            cursor.execute("SET LOCAL ledger.archive = 'on'")
        yield
        with self.connection.cursor() as cursor:
            cursor.execute("SET LOCAL ledger.archive = 'off'")

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


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
