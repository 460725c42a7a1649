"""Backfill: equals live (I3), historical timestamps (I7), once (I2), resumable, dry run."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ledger.exceptions import UnknownSourceError
from ledger.models import BackfillCheckpoint, EventType, UserActivity
from ledger.operations.backfill import backfill_activity
from ledger.projections import LIFETIME_STATS
from ledger.services.stats import recompute_stats_for
from tests.ledger.operations.faults import fail_batches, killed
from tests.ledger.operations.history import (
    BASE,
    build_history,
    counters,
    event_rows,
    game_counters,
    history_without_events,
)

pytestmark = pytest.mark.django_db


def _stats_equal_recompute() -> None:
    from ledger.models import UserProfileStats

    stored = {
        row["user_id"]: row
        for row in UserProfileStats.objects.values("user_id", *LIFETIME_STATS.fields)
    }
    recomputed = recompute_stats_for(user_ids=list(stored))
    for user_id, row in stored.items():
        assert {k: v for k, v in row.items() if k != "user_id"} == recomputed[user_id]


def test_backfill_equals_live_history() -> None:
    history, live = history_without_events(build_history)
    assert live.reversals == 3  # the corrected final (won, lost) and the no-show's check-in

    report = backfill_activity(batch_size=3)

    assert event_rows() == live.events  # source, id, type, user, historical timestamp, metadata
    assert report.total_events == sum(live.events.values()) == 95
    assert not UserActivity.objects.filter(event_type=EventType.REVERSAL).exists()
    assert counters() == {uid: c for uid, c in live.counters.items() if any(c.values())}
    assert game_counters() == live.games  # per-game stats: backfill equals live too
    assert len(live.games) >= 2
    _stats_equal_recompute()
    ana = counters()[history.users["ana"].pk]
    assert (ana["matches_played"], ana["matches_won"], ana["matches_lost"]) == (
        4,
        2,
        1,
    )  # the league: 2 more
    assert (ana["tournaments_won"], ana["total_earned"], ana["total_spent"]) == (1, 100, 10)


def test_backfilled_events_keep_historical_timestamps() -> None:
    history_without_events(build_history)
    backfill_activity()
    times = UserActivity.objects.values_list("timestamp", "created_at")
    assert all(ts < BASE.replace(year=2026) < created for ts, created in times)
    joined = UserActivity.objects.get(
        event_type=EventType.TEAM_JOINED, user__username="ben_h"
    ).timestamp
    assert joined == BASE.replace(hour=14)  # at(2): when ben joined, not when we learned it


def test_second_run_records_nothing() -> None:
    history_without_events(build_history)
    first = backfill_activity(batch_size=4)
    before = event_rows()
    stats_before = counters()

    second = backfill_activity(batch_size=4)

    assert first.total_events == 95
    assert second.total_events == 0
    assert second.total_rows == first.total_rows
    assert event_rows() == before
    assert counters() == stats_before


def test_killed_backfill_resumes_to_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db import transaction

    history_without_events(build_history)
    savepoint = transaction.savepoint()
    backfill_activity(batch_size=2)
    clean_events, clean_counters = event_rows(), counters()
    transaction.savepoint_rollback(savepoint)
    assert not UserActivity.objects.exists()

    fail_batches(monkeypatch, on={5}, error=killed)
    with pytest.raises(RuntimeError, match="killed"):
        backfill_activity(batch_size=2)
    checkpoint = BackfillCheckpoint.objects.get(finished_at__isnull=True, last_pk__gt=0)
    assert checkpoint.last_pk > 0  # committed with the batches before the one that died
    recorded_before_kill = UserActivity.objects.count()
    assert 0 < recorded_before_kill < sum(clean_events.values())

    monkeypatch.undo()
    resumed = backfill_activity(batch_size=2)

    assert event_rows() == clean_events
    assert counters() == clean_counters
    assert resumed.total_events == sum(clean_events.values()) - recorded_before_kill
    resumed_source = next(s for s in resumed.sources if s.name == checkpoint.source)
    assert resumed_source.resumed_after_pk == checkpoint.last_pk
    assert not BackfillCheckpoint.objects.filter(finished_at__isnull=True).exists()


def test_dry_run_reports_per_source_and_type_and_writes_nothing() -> None:
    history_without_events(build_history)

    report = backfill_activity(dry_run=True, sources=["tournaments.match", "teams.team"])

    assert not UserActivity.objects.exists()
    assert not BackfillCheckpoint.objects.exists()
    assert report.events_by_source() == {
        "teams.team": {"team_created": 2},
        "tournaments.match": {
            # cup: 3 matches, 1 forfeit; league: 2 matches of 3 a side, 1 forfeit; open cup: 1
            "match_lost": 2 + 3 + 1,
            "match_played": 6 + 12 + 2,
            "match_won": 2 + 3 + 1,
        },
    }


def test_unknown_source_is_a_clear_error_listing_valid_ones() -> None:
    with pytest.raises(UnknownSourceError, match=r"Valid sources: .*tournaments\.match"):
        backfill_activity(sources=["tournaments.nope"])
    with pytest.raises(CommandError, match=r"tournaments\.nope"):
        call_command("backfill_user_activity", "--source", "tournaments.nope")
    assert not UserActivity.objects.exists()


def test_rows_are_read_in_keyset_batches_never_whole_tables() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    history_without_events(build_history)
    with CaptureQueriesContext(connection) as queries:
        report = backfill_activity(sources=["teams.membership"], batch_size=2)

    reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT "teams_teammembership"."id"')
    ]
    assert report.sources[0].batches == 3
    assert len(reads) == 4  # three batches of 2 rows, then the empty read that ends the walk
    assert all("LIMIT 2" in sql and "ORDER BY" in sql for sql in reads)
    assert all('"teams_teammembership"."id" >' in sql for sql in reads)
