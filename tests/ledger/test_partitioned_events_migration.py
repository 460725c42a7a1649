"""Migration 0600 converts a populated event table into monthly partitions (PostgreSQL).

Back to the migration before it, events and stats written as the old schema held them, forward
again: every row and every stats row is as it was, and the keys, checks, foreign keys and
triggers hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from ledger.drafts import NewEvent
from ledger.recorders import recorder
from ledger.services.recording import record_activity

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PARTITIONS = ("ledger", "0600_partitioned_events")
BEFORE = [
    dependency
    for dependency in MigrationLoader(None).get_migration(*PARTITIONS).dependencies
    if dependency[0] == "ledger"
]
"""The migration before 0600 (the lead renumbers at merge)."""
TABLE = "ledger_useractivity"
HISTORY = [  # (user index, type, timestamp, amount): years apart, so several months to make
    (0, "coins_earned", datetime(2019, 3, 14, 9, 26, tzinfo=UTC), 500),
    (0, "match_played", datetime(2019, 3, 31, 23, 59, 59, tzinfo=UTC), 0),
    (1, "match_played", datetime(2019, 4, 1, 0, 0, tzinfo=UTC), 0),
    (1, "team_joined", datetime(2024, 11, 5, 18, 0, tzinfo=UTC), 0),
    (2, "achievement_unlocked", datetime(2025, 1, 1, 0, 0, tzinfo=UTC), 0),
]


@pytest.fixture
def before_partitions() -> Iterator[MigrationExecutor]:
    """The database as the migrations before 0600 left it; migrated forward again however the
    test ends."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor.loader.build_graph()
    yield executor
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _old_schema_rows(executor: MigrationExecutor) -> list[tuple[Any, ...]]:
    """Users, events (one reversed, one of an erased subject) and stats, written with the
    models before 0600, as a populated production table would hold them."""
    apps = executor.loader.project_state(BEFORE).apps
    user_model = apps.get_model("auth", "User")
    activity = apps.get_model("ledger", "UserActivity")
    stats = apps.get_model("ledger", "UserProfileStats")
    erased = apps.get_model("ledger", "ErasedSubject").objects.create(user_digest="d" * 64)
    users = [user_model.objects.create(username=f"old{i}") for i in range(3)]
    events = [
        activity.objects.create(
            user=users[who],
            event_type=kind,
            timestamp=at,
            metadata={"n": n},
            source_model="tests.old",
            source_id=n,
            amount=amount,
        )
        for n, (who, kind, at, amount) in enumerate(HISTORY)
    ]
    activity.objects.create(
        user=users[0],
        event_type="reversal",
        timestamp=datetime(2019, 5, 2, 12, 0, tzinfo=UTC),
        metadata={"reverses": {"id": events[0].pk, "event_type": "coins_earned"}},
        source_model="tests.old",
        source_id=0,
        amount=500,
        reverses=events[0],
    )
    activity.objects.create(
        erased_subject=erased,
        event_type="match_played",
        timestamp=datetime(2020, 2, 29, 12, 0, tzinfo=UTC),
        source_model="tests.old",
        source_id=9,
    )
    stats.objects.create(user=users[0], matches_played=1, total_earned=500, total_spent=0)
    stats.objects.create(user=users[1], matches_played=1, teams_joined=1, current_teams_count=1)
    stats.objects.create(user=users[2], achievements_count=1)
    return [(user.pk,) for user in users]


def _table(sql: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def _raw(sql: str, params: list[Any]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _insert_raw(user_id: int | None, kind: str, amount: int = 0) -> None:
    """An event of March 2019 in plain SQL, around the write path."""
    _raw(
        f'INSERT INTO {TABLE} (user_id, event_type, "timestamp", created_at, metadata, '
        "source_model, source_id, occurrence, amount) "
        "VALUES (%s, %s, '2019-03-05', now(), '{}', 'x', 1, 0, %s)",
        [user_id, kind, amount],
    )


def test_a_populated_table_is_partitioned_with_every_row_stats_and_constraint(before_partitions):
    users = [pk for (pk,) in _old_schema_rows(before_partitions)]
    events_before = _table(f"SELECT * FROM {TABLE} ORDER BY id")
    stats_before = _table("SELECT * FROM ledger_userprofilestats ORDER BY user_id")
    assert _table(f"SELECT relkind FROM pg_class WHERE relname = '{TABLE}'") == [("r",)]

    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert _table(f"SELECT relkind FROM pg_class WHERE relname = '{TABLE}'") == [("p",)]
    assert _table(f"SELECT * FROM {TABLE} ORDER BY id") == events_before
    assert _table("SELECT * FROM ledger_userprofilestats ORDER BY user_id") == stats_before
    # each event in the partition of its month; the months of the data and the coming ones made
    placed = _table(
        f"SELECT tableoid::regclass::text, to_char(\"timestamp\" AT TIME ZONE 'UTC', 'YYYY_MM') "
        f"FROM {TABLE}"
    )
    assert all(partition == f"{TABLE}_{month}" for partition, month in placed), placed
    months = recorder().event_months()
    assert {date(2019, 3, 1), date(2019, 4, 1), date(2019, 5, 1), date(2020, 2, 1)} <= set(months)
    assert {date(2024, 11, 1), date(2025, 1, 1)} <= set(months)
    assert date(2019, 6, 1) not in months  # no month without data in the past

    # New ids carry on after the copied ones.
    [new] = record_activity(
        events=[_event(users[2], "match_won", datetime(2019, 3, 2, tzinfo=UTC))]
    )
    assert new.id > max(row[0] for row in events_before)

    # The once-key: the same event again is skipped; a reversed event is not reversed again.
    assert (
        record_activity(events=[_event(users[2], "match_won", datetime(2019, 3, 2, tzinfo=UTC))])
        == []
    )
    again = NewEvent(
        user_id=users[0],
        event_type="reversal",
        timestamp=datetime(2026, 1, 5, tzinfo=UTC),
        metadata={},
        source_model="tests.old",
        source_id=0,
        amount=500,
        reverses_id=events_before[0][0],
        reversed_type="coins_earned",
    )
    assert record_activity(events=[again]) == []
    # A reversal points at an event that exists.
    with pytest.raises(IntegrityError, match="must point at a recorded event"):
        record_activity(
            events=[
                _event(
                    users[2],
                    "reversal",
                    datetime(2026, 1, 5, tzinfo=UTC),
                    reverses_id=10**9,
                    reversed_type="match_won",
                )
            ]
        )

    # Checks, foreign keys and the append-only trigger, on a partition the copy filled.
    with pytest.raises(IntegrityError, match="ledger_activity_amount_gte_0"):
        _insert_raw(users[0], "coins_spent", amount=-1)
    with pytest.raises(IntegrityError, match="ledger_activity_one_subject"):
        _insert_raw(None, "match_won")
    with pytest.raises(IntegrityError, match="ledger_useractivity_user_id"):
        _insert_raw(10**8, "match_won")
    with pytest.raises(IntegrityError, match="ledger_activity_reversal_points_at_event"):
        _insert_raw(users[0], "reversal")
    for sql in (f"UPDATE {TABLE} SET amount = 1", f"DELETE FROM {TABLE}"):
        with pytest.raises(IntegrityError, match="append-only"):
            _raw(sql, [])
    assert _table(f"SELECT count(*) FROM {TABLE}") == [(len(events_before) + 1,)]


def test_back_before_partitions_keeps_every_row_and_the_old_constraints(before_partitions):
    """The reverse migration (what a rollback of a deploy runs) copies the rows back too."""
    users = [pk for (pk,) in _old_schema_rows(before_partitions)]
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    record_activity(events=[_event(users[1], "match_won", datetime(2018, 7, 1, tzinfo=UTC))])
    events = _table(f"SELECT * FROM {TABLE} ORDER BY id")

    MigrationExecutor(connection).migrate(BEFORE)

    assert _table(f"SELECT relkind FROM pg_class WHERE relname = '{TABLE}'") == [("r",)]
    assert _table(f"SELECT * FROM {TABLE} ORDER BY id") == events
    constraints = {
        name
        for (name,) in _table(
            f"SELECT conname FROM pg_constraint WHERE conrelid = '{TABLE}'::regclass"
        )
    }
    assert "ledger_useractivity_reverses_id_key" in constraints  # unique again, and a foreign key
    with pytest.raises(IntegrityError, match="append-only"):
        _raw(f"DELETE FROM {TABLE}", [])


def _event(user_id: int, kind: str, at: datetime, **extra: Any) -> NewEvent:
    return NewEvent(
        user_id=user_id,
        event_type=kind,
        timestamp=at,
        metadata={},
        source_model="tests.new",
        source_id=1,
        **extra,
    )
