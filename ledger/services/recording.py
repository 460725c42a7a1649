"""The one write path: append events and fold their deltas into stats, in one transaction.

Duplicates are skipped by the ``ledger_activity_once`` unique constraint (I2) and only the rows
that were actually inserted reach the fold (I1). Stats rows are locked in user-id order so
concurrent batches cannot deadlock on them; subscribers hear of events only after commit (I5).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from ledger.drafts import NewEvent, RecordedEvent
from ledger.fold import StatsDelta, event_deltas
from ledger.metrics import timed_recording
from ledger.models import EventType, UserActivity, UserProfileStats
from ledger.models.stats import COUNTER_FIELDS
from ledger.services import pg_batch
from ledger.services.stats_sql import add_proposed_row, upsert_columns
from ledger.signals import activity_recorded

INSERT_CHUNK = 500
"""Rows per INSERT statement: 11 parameters a row stays far below SQLite's variable limit."""

_EVENT_COLUMNS = (
    "user_id",
    "event_type",
    "timestamp",
    "created_at",
    "metadata",
    "source_model",
    "source_id",
    "occurrence",
    "amount",
    "reverses_id",
)


@timed_recording  # metrics: batch latency, duplicates skipped
def record_activity(*, events: Sequence[NewEvent]) -> list[RecordedEvent]:
    """Append ``events`` that are not yet recorded and apply their deltas; return those inserted."""
    if not events:
        return []
    with transaction.atomic(savepoint=False):
        recorded, inserted = _insert_new(events)
        if recorded:
            _apply_deltas(_fold(events, inserted))
            batch = tuple(recorded)
            transaction.on_commit(
                lambda: activity_recorded.send(sender=UserActivity, events=batch), robust=True
            )
    return recorded


def _match_key(event: NewEvent) -> tuple[str, int, str, int, int]:
    """What identifies an inserted row: a reversal by its target, any other event by its key."""
    discriminator = event.reverses_id if event.reverses_id is not None else event.occurrence
    return (event.source_model, event.source_id, event.event_type, event.user_id, discriminator)


def _insert_new(
    events: Sequence[NewEvent],
) -> tuple[list[RecordedEvent], set[tuple[str, int, str, int, int]]]:
    if connection.vendor == "postgresql":
        return pg_batch.insert_new(events)
    quote = connection.ops.quote_name
    table = quote(UserActivity._meta.db_table)
    by_column = {f.column: f for f in UserActivity._meta.concrete_fields}
    fields = [by_column[column] for column in _EVENT_COLUMNS]
    columns = ", ".join(quote(c) for c in _EVENT_COLUMNS)
    row_sql = "(" + ", ".join(["%s"] * len(_EVENT_COLUMNS)) + ")"
    created_at = timezone.now()
    recorded: list[RecordedEvent] = []
    inserted: set[tuple[str, int, str, int, int]] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(events), INSERT_CHUNK):
            chunk = events[start : start + INSERT_CHUNK]
            params: list[Any] = []
            for event in chunk:
                values = (
                    event.user_id,
                    event.event_type,
                    event.timestamp,
                    created_at,
                    event.metadata,
                    event.source_model,
                    event.source_id,
                    event.occurrence,
                    event.amount,
                    event.reverses_id,
                )
                params.extend(
                    value if value is None else field.get_db_prep_save(value, connection)
                    for field, value in zip(fields, values, strict=True)
                )
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(chunk))} "
                "ON CONFLICT DO NOTHING "
                "RETURNING id, user_id, event_type, source_model, source_id, occurrence, "
                "reverses_id",
                params,
            )
            for pk, user_id, event_type, model, source_id, occurrence, reverses_id in cursor:
                recorded.append(RecordedEvent(pk, user_id, event_type, model, source_id))
                discriminator = reverses_id if reverses_id is not None else occurrence
                inserted.add((model, source_id, event_type, user_id, discriminator))
    return recorded, inserted


def _fold(
    events: Sequence[NewEvent], inserted: set[tuple[str, int, str, int, int]]
) -> dict[int, StatsDelta]:
    """Sum the deltas of exactly the inserted events, per user."""
    per_user: dict[int, StatsDelta] = defaultdict(StatsDelta.zero)
    for event in events:
        key = _match_key(event)
        if key not in inserted:
            continue
        inserted.discard(key)  # a draft repeated within one batch was inserted once
        if event.event_type == EventType.REVERSAL:
            assert event.reversed_type is not None, "a reversal must name the type it cancels"
            deltas = event_deltas(event.reversed_type, amount=event.amount, sign=-1)
        else:
            deltas = event_deltas(event.event_type, amount=event.amount)
        per_user[event.user_id].add(deltas, event.timestamp)
    return per_user


def _apply_deltas(per_user: dict[int, StatsDelta]) -> None:
    """Add each user's deltas to their stats row, creating it on first need, with the row locks
    taken in user-id order so concurrent batches cannot deadlock on them.

    A batch that only adds (no reversal, no team left: all of a backfill) is one upsert. One that
    subtracts is two statements, because the database checks the counters' ``>= 0`` constraints
    on the row an upsert proposes to insert before it finds the conflict: a negative delta would
    fail them even where the stored counter covers it."""
    now = timezone.now()
    user_ids = sorted(per_user)
    adds_only = all(value >= 0 for delta in per_user.values() for value in delta.counters.values())
    if connection.vendor == "postgresql":
        if adds_only:
            return pg_batch.upsert_deltas(per_user, user_ids, now)
        return pg_batch.apply_deltas(per_user, user_ids, now)
    if adds_only:
        return _upsert_deltas(per_user, user_ids, now)
    quote = connection.ops.quote_name
    table = quote(UserProfileStats._meta.db_table)
    ts_field = UserProfileStats._meta.get_field("last_activity_at")
    prep_now = ts_field.get_db_prep_save(now, connection)
    with connection.cursor() as cursor:
        # Insert-or-touch in sorted order: creates rows on first need and takes the row locks in
        # one consistent order, so two batches touching the same users cannot deadlock.
        cursor.execute(
            f"INSERT INTO {table} (user_id, stats_updated_at) VALUES "
            + ", ".join(["(%s, %s)"] * len(user_ids))
            + " ON CONFLICT (user_id) DO UPDATE SET stats_updated_at = excluded.stats_updated_at",
            [value for user_id in user_ids for value in (user_id, prep_now)],
        )
        n = len(COUNTER_FIELDS)
        assignments = [
            f"{quote(name)} = {quote(name)} + d.column{i + 2}"
            for i, name in enumerate(COUNTER_FIELDS)
        ]
        last = f"d.column{n + 2}"
        assignments.append(
            f"last_activity_at = CASE WHEN last_activity_at IS NULL OR last_activity_at < {last} "
            f"THEN {last} ELSE last_activity_at END"
        )
        row_sql = "(" + ", ".join(["%s"] * (n + 2)) + ")"
        params: list[Any] = []
        for user_id in user_ids:
            delta = per_user[user_id]
            params.append(user_id)
            params.extend(delta.counters[name] for name in COUNTER_FIELDS)
            params.append(_prep_timestamp(delta.last_activity_at))
        # The VALUES columns are column1..columnN on both PostgreSQL and SQLite.
        cursor.execute(
            f"UPDATE {table} SET {', '.join(assignments)} "
            f"FROM (VALUES {', '.join([row_sql] * len(user_ids))}) AS d "
            f"WHERE {table}.user_id = d.column1",
            params,
        )


def _upsert_deltas(per_user: dict[int, StatsDelta], user_ids: list[int], now: datetime) -> None:
    """Non-negative deltas in one ``INSERT … ON CONFLICT DO UPDATE`` per chunk of users."""
    quote = connection.ops.quote_name
    table = quote(UserProfileStats._meta.db_table)
    row_sql = "(" + ", ".join(["%s"] * (len(COUNTER_FIELDS) + 3)) + ")"
    columns = upsert_columns()
    prep_now = _prep_timestamp(now)
    with connection.cursor() as cursor:
        for start in range(0, len(user_ids), INSERT_CHUNK):
            chunk = user_ids[start : start + INSERT_CHUNK]
            params: list[Any] = []
            for user_id in chunk:
                delta = per_user[user_id]
                params.append(user_id)
                params.extend(delta.counters[name] for name in COUNTER_FIELDS)
                params.extend((_prep_timestamp(delta.last_activity_at), prep_now))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(chunk))} "
                f"ON CONFLICT (user_id) DO UPDATE SET {add_proposed_row()}",
                params,
            )


def _prep_timestamp(value: datetime | None) -> Any:
    field = UserProfileStats._meta.get_field("last_activity_at")
    return None if value is None else field.get_db_prep_save(value, connection)
