"""Months of events on PostgreSQL (decision 0014): made ahead by the scheduled job, made by the
recorder for the past months a backfill needs, detached whole for the archive; a feed page reads
the partitions it needs, each by its feed index."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from ledger.drafts import NewEvent
from ledger.models import UserActivity
from ledger.operations.partitions import coming_months
from ledger.recorders import recorder
from ledger.recorders.base import month_of
from ledger.selectors import Position, activity_feed_query, page_request
from ledger.services.recording import record_activity
from tests.esports.scenario import assert_stats_fold_everywhere
from tests.factories import UserFactory
from tests.support.plans import plan_nodes

pytestmark = pytest.mark.postgres


def _event(user_id: int, at: datetime, source_id: int = 1, **extra: Any) -> NewEvent:
    return NewEvent(
        user_id=user_id,
        event_type=extra.pop("event_type", "match_played"),
        timestamp=at,
        metadata={},
        source_model="tests.partitions",
        source_id=source_id,
        **extra,
    )


def _partition_of(event_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM ledger_useractivity WHERE id = %s", [event_id]
        )
        return str(cursor.fetchone()[0])


def test_coming_months_cross_the_year() -> None:
    assert coming_months(today=date(2026, 11, 1), ahead=3) == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]


def test_a_moment_falls_in_its_utc_month() -> None:
    east = timezone.get_fixed_timezone(timedelta(hours=3))
    assert month_of(datetime(2026, 3, 1, 1, 0, tzinfo=east)) == date(2026, 2, 1)
    assert month_of(datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=UTC)) == date(2026, 2, 1)


@pytest.mark.django_db
def test_an_event_of_a_month_not_yet_made_makes_its_month_and_lands_in_it() -> None:
    user = UserFactory.create()
    assert date(1999, 5, 1) not in recorder().event_months()
    [first] = record_activity(events=[_event(user.pk, datetime(1999, 5, 31, 23, 0, tzinfo=UTC))])
    [second] = record_activity(
        events=[_event(user.pk, datetime(1999, 5, 1, tzinfo=UTC), source_id=2)]
    )
    assert _partition_of(first.id) == _partition_of(second.id) == "ledger_useractivity_1999_05"
    assert date(1999, 5, 1) in recorder().event_months()
    assert record_activity(events=[_event(user.pk, datetime(1999, 5, 31, 23, 0, tzinfo=UTC))]) == []
    assert_stats_fold_everywhere()


@pytest.mark.django_db
def test_the_scheduled_job_makes_this_month_and_the_coming_ones(settings: Any) -> None:
    settings.LEDGER_EVENT_MONTHS_AHEAD = 14
    call_command("make_event_months")
    wanted = set(coming_months(today=month_of(timezone.now()), ahead=14))
    assert wanted <= set(recorder().event_months())
    call_command("make_event_months", "--ahead", "14")  # twice: nothing more to make
    assert recorder().make_event_months(wanted) == 0


@pytest.mark.django_db(transaction=True)
def test_two_writers_needing_the_same_new_month_make_it_once_and_both_record() -> None:
    """Each waits for the other's lock, then finds the month made."""
    users = [UserFactory.create() for _ in range(2)]
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def write(user_id: int) -> None:
        try:
            with transaction.atomic():
                start.wait(timeout=10)
                record_activity(events=[_event(user_id, datetime(1998, 2, 14, tzinfo=UTC))])
        except BaseException as error:  # reported below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(user.pk,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures, failures
    rows = UserActivity.objects.filter(timestamp__year=1998).values_list("user_id", flat=True)
    assert sorted(rows) == sorted(user.pk for user in users)
    assert recorder().event_months().count(date(1998, 2, 1)) == 1
    assert_stats_fold_everywhere()


@pytest.mark.django_db(transaction=True)
def test_a_detached_month_leaves_its_rows_in_a_table_and_is_refused_clearly() -> None:
    user = UserFactory.create()
    [event] = record_activity(events=[_event(user.pk, datetime(1997, 8, 9, tzinfo=UTC))])
    try:
        with transaction.atomic():
            name = recorder().detach_event_month(date(1997, 8, 1))
        assert name == "ledger_useractivity_1997_08"
        assert date(1997, 8, 1) not in recorder().event_months()
        assert not UserActivity.objects.filter(pk=event.id).exists()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {name}")
            assert cursor.fetchall() == [(event.id,)]
        # The month is not made again behind the archive's back: a clear error, nothing lost.
        late = _event(user.pk, datetime(1997, 8, 10, tzinfo=UTC), source_id=2)
        with pytest.raises(DatabaseError, match="exists but is no partition"):
            record_activity(events=[late])
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS ledger_useractivity_1997_08")


@pytest.mark.django_db
def test_a_deep_page_reads_only_the_months_up_to_its_cursor_each_by_its_feed_index() -> None:
    """Pruned by the cursor's ``timestamp <=`` bound; the months after it are not read."""
    user, other = UserFactory.create(), UserFactory.create()
    start = datetime(1996, 1, 1, tzinfo=UTC)
    for who in (user, other):
        record_activity(
            events=[
                _event(who.pk, start + timedelta(hours=12 * i), source_id=i) for i in range(700)
            ]
        )  # January to December 1996
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ledger_useractivity")
    deep = UserActivity.objects.filter(user=user).order_by("-timestamp", "-id")[400]
    cursor_month = f"ledger_useractivity_{deep.timestamp:%Y_%m}"
    assert "1996_02" < cursor_month[-7:] < "1996_12"
    request = page_request(first=50, after=Position(key=deep.timestamp, id=deep.pk))
    query = activity_feed_query(user_id=user.pk, request=request, include_economy=True)
    nodes = plan_nodes(json.loads(query.explain(format="json"))[0]["Plan"])
    scanned = {n["Relation Name"] for n in nodes if "Relation Name" in n}
    assert cursor_month in scanned
    assert all(name <= cursor_month for name in scanned), scanned
    scans = [n for n in nodes if "Relation Name" in n]
    assert all(n["Node Type"] in {"Index Scan", "Index Only Scan"} for n in scans), scans
    assert all(n["Index Name"].endswith("user_id_timestamp_id_idx") for n in scans), scans
    assert not any(n["Node Type"] in {"Seq Scan", "Sort"} for n in nodes), nodes
    page = list(query)
    expected = list(
        UserActivity.objects.filter(user=user, timestamp__lte=deep.timestamp)
        .exclude(pk=deep.pk)
        .order_by("-timestamp", "-id")
        .values_list("id", flat=True)[:51]
    )
    assert [row["id"] for row in page] == expected
