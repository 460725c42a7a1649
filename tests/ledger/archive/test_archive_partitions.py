"""On PostgreSQL's partitioned events table, the archive detaches and drops whole months."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from ledger.models import UserActivity
from ledger.operations.archive import archive_activity
from ledger.operations.reconcile import reconcile_stats
from ledger.recorders import recorder
from ledger.recorders.postgresql import PostgreSQLRecorder
from tests.ledger.archive.history import BEFORE, make_history, old_events, stats

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _partitions() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'ledger_useractivity'::regclass"
        )
        return {name for (name,) in cursor.fetchall()}


def _tables(names: list[str]) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname = ANY(%s)", [names])
        return {name for (name,) in cursor.fetchall()}


def _deleted_rows() -> int:
    """Rows ever deleted from the events' partitions (the statistics collector's count)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute(
            "SELECT coalesce(sum(n_tup_del), 0) FROM pg_stat_user_tables "
            "WHERE relname LIKE 'ledger_useractivity%%'"
        )
        (deleted,) = cursor.fetchone()
    return int(deleted)


def _forget_months() -> None:
    """Another test's transaction may have made (and rolled back) the months these use."""
    writer = recorder()
    assert isinstance(writer, PostgreSQLRecorder)
    writer.forget_event_months()


def test_archived_months_leave_as_whole_partitions(archive_dir: Path) -> None:
    _forget_months()
    history = make_history()
    months = ["ledger_useractivity_2023_01", "ledger_useractivity_2023_02"]
    months.append("ledger_useractivity_2023_03")
    assert set(months) <= _partitions()
    before, deleted = stats(history.erin, history.rival), _deleted_rows()

    report = archive_activity(before=BEFORE)

    assert report.total_events == 7
    assert not _tables(months)  # detached, then dropped
    assert not set(months) & _partitions()
    assert _deleted_rows() == deleted  # no row was deleted
    assert old_events() == 0
    assert stats(history.erin, history.rival) == before
    assert not reconcile_stats().found_problems
    assert UserActivity.objects.filter(user=history.erin).count() == 2


def test_a_month_recorded_into_again_is_made_again_and_archived_as_a_second_part(
    archive_dir: Path,
) -> None:
    from tests.factories import transaction_for
    from tests.ledger.archive.history import at

    _forget_months()
    history = make_history()
    archive_activity(before=BEFORE)

    transaction_for(history.erin, 9, created_at=at(2, 20))

    assert "ledger_useractivity_2023_02" in _partitions()
    report = archive_activity(before=BEFORE)
    assert report.months == {"events-2023-02.part2.jsonl.gz": 1}
    assert "ledger_useractivity_2023_02" not in _partitions()
    assert not reconcile_stats().found_problems
