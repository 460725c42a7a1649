"""The write path's PostgreSQL statements for large batches (backfill speed).

Each batch is one statement that reads its rows from a single JSON parameter, so the SQL text is
the same whatever the batch size: no per-row placeholders to build, parse and quote one by one
(measured: that, not the database, was most of a 1,000-event batch). Same rows, same
``ON CONFLICT``, same stats lock order as the portable statements in ``recording``. Also here:
the row-version check and share lock with which a backfill batch writes rows it read ahead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Model, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from ledger.drafts import NewEvent, RecordedEvent
from ledger.fold import StatsDelta
from ledger.models import UserActivity, UserProfileStats
from ledger.models.stats import COUNTER_FIELDS
from ledger.services.stats_sql import add_proposed_row, upsert_columns

_EVENT_COLUMNS = (
    ("user_id", "bigint"),
    ("event_type", "text"),
    ("timestamp", "timestamptz"),
    ("created_at", "timestamptz"),
    ("metadata", "jsonb"),
    ("source_model", "text"),
    ("source_id", "bigint"),
    ("occurrence", "integer"),
    ("amount", "bigint"),
    ("reverses_id", "bigint"),
)
_METADATA_ENCODER = UserActivity._meta.get_field("metadata").encoder

Key = tuple[str, int, str, int, int]


def insert_new(events: Sequence[NewEvent]) -> tuple[list[RecordedEvent], set[Key]]:
    """INSERT ... SELECT FROM json_to_recordset ... ON CONFLICT DO NOTHING RETURNING."""
    quote = connection.ops.quote_name
    table = quote(UserActivity._meta.db_table)
    columns = ", ".join(quote(name) for name, _ in _EVENT_COLUMNS)
    types = ", ".join(f"{quote(name)} {kind}" for name, kind in _EVENT_COLUMNS)
    created_at = timezone.now().isoformat()
    rows = [
        {
            "user_id": event.user_id,
            "event_type": event.event_type,
            "timestamp": event.timestamp.isoformat(),
            "created_at": created_at,
            "metadata": event.metadata,
            "source_model": event.source_model,
            "source_id": event.source_id,
            "occurrence": event.occurrence,
            "amount": event.amount,
            "reverses_id": event.reverses_id,
        }
        for event in events
    ]
    recorded: list[RecordedEvent] = []
    inserted: set[Key] = set()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} "
            f"FROM json_to_recordset(%s::json) AS r({types}) "
            "ON CONFLICT DO NOTHING "
            "RETURNING id, user_id, event_type, source_model, source_id, occurrence, reverses_id",
            [json.dumps(rows, cls=_METADATA_ENCODER)],
        )
        for pk, user_id, event_type, model, source_id, occurrence, reverses_id in cursor:
            recorded.append(RecordedEvent(pk, user_id, event_type, model, source_id))
            discriminator = reverses_id if reverses_id is not None else occurrence
            inserted.add((model, source_id, event_type, user_id, discriminator))
    return recorded, inserted


def apply_deltas(per_user: dict[int, StatsDelta], user_ids: list[int], now: datetime) -> None:
    """Create missing rows and lock all in user-id order (insert-or-touch), then add the deltas:
    two statements, as on every backend (tests count them)."""
    quote = connection.ops.quote_name
    table = quote(UserProfileStats._meta.db_table)
    names = [quote(name) for name in COUNTER_FIELDS]
    last = quote("last_activity_at")
    assignments = [f"{name} = {table}.{name} + d.{name}" for name in names]
    assignments.append(
        f"{last} = CASE WHEN {table}.{last} IS NULL OR {table}.{last} < d.{last} "
        f"THEN d.{last} ELSE {table}.{last} END"
    )
    assignments.append("stats_updated_at = %s")
    rows = _delta_rows(per_user, user_ids)
    types = ", ".join(f"{name} bigint" for name in names)
    with connection.cursor() as cursor:
        cursor.execute(  # insert-or-touch in user-id order: creates rows, takes locks in order
            f"INSERT INTO {table} (user_id, stats_updated_at) "
            "SELECT u, %s FROM unnest(%s::bigint[]) AS u ORDER BY u "
            "ON CONFLICT (user_id) DO UPDATE SET stats_updated_at = excluded.stats_updated_at",
            [now, user_ids],
        )
        cursor.execute(
            f"UPDATE {table} SET {', '.join(assignments)} "
            f"FROM json_to_recordset(%s::json) AS d(user_id bigint, {types}, {last} timestamptz) "
            f"WHERE {table}.user_id = d.user_id",
            [now, json.dumps(rows)],
        )


def upsert_deltas(per_user: dict[int, StatsDelta], user_ids: list[int], now: datetime) -> None:
    """Non-negative deltas in one ``INSERT … SELECT … ORDER BY user_id ON CONFLICT DO UPDATE``:
    rows are created or locked in user-id order, as ``apply_deltas`` takes them."""
    quote = connection.ops.quote_name
    table = quote(UserProfileStats._meta.db_table)
    names = [quote(name) for name in COUNTER_FIELDS]
    last = quote("last_activity_at")
    types = ", ".join(f"{name} bigint" for name in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({upsert_columns()}) "
            f"SELECT d.user_id, {', '.join(f'd.{name}' for name in names)}, d.{last}, %s "
            f"FROM json_to_recordset(%s::json) AS d(user_id bigint, {types}, {last} timestamptz) "
            f"ORDER BY d.user_id "
            f"ON CONFLICT (user_id) DO UPDATE SET {add_proposed_row()}",
            [now, json.dumps(_delta_rows(per_user, user_ids))],
        )


def _delta_rows(per_user: dict[int, StatsDelta], user_ids: list[int]) -> list[dict[str, Any]]:
    rows = []
    for user_id in user_ids:
        delta = per_user[user_id]
        row: dict[str, Any] = dict(delta.counters)
        row["user_id"] = user_id
        moment = delta.last_activity_at
        row["last_activity_at"] = moment.isoformat() if moment is not None else None
        rows.append(row)
    return rows


def in_values(model: type[Model], field: str, values: Sequence[Any], sql_type: str) -> Any:
    """A filter for ``field IN values``: on PostgreSQL ``= ANY`` of one text parameter (ids joined
    by commas, other values as a JSON array), where a batch of 2,000 ids otherwise builds, parses
    and quotes 2,000 placeholders, or dumps a 2,000-element array in Python (measured: 3.6 ms
    for 2,000 digests as an array, 0.2 ms as JSON text); ``__in`` elsewhere. Pass the result to
    ``filter()`` as a positional argument."""
    if connection.vendor != "postgresql":
        return Q(**{f"{field}__in": list(values)})
    quote = connection.ops.quote_name
    concrete = next(f for f in model._meta.concrete_fields if f.name == field)
    column = f"{quote(model._meta.db_table)}.{quote(str(concrete.column))}"
    if sql_type in _INTEGER_TYPES:
        array = f"string_to_array(%s, ',')::{sql_type}[]"
        param = ",".join(str(int(value)) for value in values)
    else:
        array = f"ARRAY(SELECT json_array_elements_text(%s::json))::{sql_type}[]"
        param = json.dumps(list(values))
    return RawSQL(f"{column} = ANY({array})", (param,), BooleanField())


_INTEGER_TYPES = frozenset({"smallint", "integer", "bigint"})


ROW_VERSION = "_ledger_row_version"
"""The attribute ``with_row_version`` sets on each row: PostgreSQL's ``xmin``, which changes with
every committed update of the row."""


def with_row_version(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Annotate each row with its version, so a row read outside a transaction can be checked for
    changes inside one (``share_lock``) instead of being read twice."""
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    return queryset.annotate(**{ROW_VERSION: RawSQL(f"{table}.xmin::text", ())})


def share_lock(model: type[Model], pks: Sequence[int]) -> dict[int, str]:
    """Lock rows FOR SHARE in primary-key order until the transaction ends and return their
    current versions; rows since deleted are absent. Updates of the rows wait for the commit;
    readers and other share-lockers do not."""
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(str(model._meta.pk.column))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {pk}, xmin::text FROM {table} WHERE {pk} = ANY(%s) ORDER BY {pk} FOR SHARE",
            [list(pks)],
        )
        return {int(row_pk): version for row_pk, version in cursor.fetchall()}


def hold_users(user_ids: Sequence[int]) -> None:
    """Lock the users' rows FOR KEY SHARE, in id order, until the transaction ends.

    Recording takes it before it checks for erased users, and ``anonymize_user`` takes the user's
    row FOR UPDATE before it erases: the two conflict, so a save either finishes before an
    erasure starts (whose re-pointing then catches its events) or checks after it committed
    (and records nothing for the user). KEY SHARE is the lock the events' foreign key takes
    anyway: it blocks no other recording, nor any update of the user but deletion."""
    if not user_ids:
        return
    user_model = UserActivity._meta.get_field("user").related_model
    table = connection.ops.quote_name(user_model._meta.db_table)
    pk = connection.ops.quote_name(str(user_model._meta.pk.column))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {pk} FROM {table} WHERE {pk} = ANY(string_to_array(%s, ',')::bigint[]) "
            f"ORDER BY {pk} FOR KEY SHARE",
            [",".join(str(int(user_id)) for user_id in sorted(user_ids))],
        )
