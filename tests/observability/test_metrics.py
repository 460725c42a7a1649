"""The metrics move exactly as the ledger and the API do (deltas of this process's registry)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.db import transaction
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from graphql_api import metrics as graphql_metrics
from graphql_api.metrics import operation_label
from ledger.models import LedgerJob, UserProfileStats
from ledger.operations.jobs import run_job_now
from ledger.services.recording import record_activity
from tests.factories import UserFactory
from tests.observability.exercise import STATS_QUERY, post_graphql, unlocks, value
from tests.support.processes import run_python

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
EVENTS = "ledger_events_recorded_total"
LABELS = {"event_type": "achievement_unlocked", "source": "tests.observability"}


def test_events_are_counted_by_type_and_source_after_commit(django_capture_on_commit_callbacks):
    user = UserFactory.create()
    before = value(EVENTS, **LABELS)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        record_activity(events=unlocks(user, source_ids=range(1, 4)))
        assert value(EVENTS, **LABELS) == before  # not before the commit
    for callback in callbacks:
        callback()
    assert value(EVENTS, **LABELS) == before + 3


def test_a_rolled_back_batch_is_not_counted(django_capture_on_commit_callbacks):
    user = UserFactory.create()
    before = value(EVENTS, **LABELS)
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                record_activity(events=unlocks(user, source_ids=range(1, 3)))
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert value(EVENTS, **LABELS) == before


def test_duplicates_skipped_are_planned_minus_inserted_and_each_batch_is_timed():
    user = UserFactory.create()
    skipped = value("ledger_duplicate_events_skipped_total", source="tests.observability")
    timed = value("ledger_record_activity_seconds_count")
    record_activity(events=unlocks(user, source_ids=range(1, 4)))
    record_activity(events=unlocks(user, source_ids=range(2, 7)))  # 2, 3 known; 4, 5, 6 new
    record_activity(events=unlocks(user, source_ids=range(1, 7)))  # all six known
    assert value("ledger_duplicate_events_skipped_total", source="tests.observability") == (
        skipped + 2 + 6
    )
    assert value("ledger_record_activity_seconds_count") == timed + 3


def test_job_transitions_are_counted_by_kind_and_status():
    UserFactory.create()

    def jobs(status: str, kind: str = "reconcile") -> float:
        return value("ledger_jobs_total", kind=kind, status=status)

    before = {s: jobs(s) for s in ("pending", "running", "succeeded", "failed")}
    run_job_now(kind="reconcile", parameters={"fix": False})
    assert {s: jobs(s) - before[s] for s in before} == {
        "pending": 1,
        "running": 1,
        "succeeded": 1,
        "failed": 0,
    }
    failed = jobs("failed", kind="backfill")
    boom = mock.Mock(side_effect=RuntimeError("boom"))
    with mock.patch.dict("ledger.operations.jobs._RUNNERS", {"backfill": boom}):
        job_row = LedgerJob.objects.create(kind="backfill", parameters={})
        from ledger.operations.jobs import run_job

        assert run_job(job_id=job_row.pk).status == "failed"
    assert jobs("failed", kind="backfill") == failed + 1


def test_the_last_reconcile_publishes_drift_found_and_fixed():
    alice, bob = UserFactory.create(), UserFactory.create()
    record_activity(events=unlocks(alice, source_ids=range(1, 3)))
    record_activity(events=unlocks(bob, source_ids=range(3, 4)))
    UserProfileStats.objects.filter(user__in=[alice, bob]).update(achievements_count=7)

    def gauge(name: str, kind: str, scope: str = "all") -> float | None:
        from prometheus_client import REGISTRY

        return REGISTRY.get_sample_value(name, {"kind": kind, "scope": scope})

    run_job_now(kind="reconcile", parameters={"fix": False})
    assert gauge("ledger_reconcile_drift_found", "users") == 2
    assert gauge("ledger_reconcile_drift_fixed", "users") == 0
    run_job_now(kind="reconcile", parameters={"fix": True})
    assert gauge("ledger_reconcile_drift_found", "users") == 2
    assert gauge("ledger_reconcile_drift_fixed", "users") == 2
    assert gauge("ledger_reconcile_drift_found", "events") == 0
    run_job_now(kind="reconcile", parameters={"fix": True})
    assert gauge("ledger_reconcile_drift_found", "users") == 0
    assert gauge("ledger_reconcile_drift_fixed", "users") == 0
    # a reconcile of chosen users reports under its own scope: the nightly's numbers stand
    UserProfileStats.objects.filter(user=alice).update(achievements_count=7)
    run_job_now(kind="reconcile", parameters={"user_ids": [alice.pk], "fix": True})
    assert gauge("ledger_reconcile_drift_found", "users", scope="users") == 1
    assert gauge("ledger_reconcile_drift_found", "users") == 0


def test_graphql_latency_and_errors_by_operation_name():
    user = UserFactory.create()

    def timed(operation: str) -> float:
        name = "graphql_operation_duration_seconds_count"
        return value(name, operation=operation, type="query")

    def errors(operation: str, kind: str) -> float:
        name = "graphql_operation_errors_total"
        return value(name, operation=operation, type="query", kind=kind)

    before = (timed("PlayerStats"), errors("PlayerStats", "server"), timed("anonymous"))
    client_errors = errors("anonymous", "client")
    assert "errors" not in post_graphql(STATS_QUERY, {"id": str(user.pk)})
    assert "errors" in post_graphql("{ stats(userId: 1) { noSuchField } }")
    with mock.patch(
        "graphql_api.stats.queries.existing_user_stats", side_effect=RuntimeError("boom")
    ):
        assert "errors" in post_graphql(STATS_QUERY, {"id": str(user.pk)})
    assert timed("PlayerStats") == before[0] + 2
    assert errors("PlayerStats", "server") == before[1] + 1
    assert errors("PlayerStats", "client") == 0
    assert timed("anonymous") == before[2] + 1
    assert errors("anonymous", "client") == client_errors + 1


def test_operation_labels_are_bounded(monkeypatch):
    monkeypatch.setattr(graphql_metrics, "_seen", set())
    monkeypatch.setattr(graphql_metrics, "MAX_OPERATION_NAMES", 2)
    assert operation_label(None) == "anonymous"
    assert operation_label("") == "anonymous"
    assert operation_label("drop table; --") == "invalid"
    assert operation_label("x" * 65) == "invalid"
    assert [operation_label(n) for n in ("Feed", "Stats", "Third", "Feed")] == [
        "Feed",
        "Stats",
        "other",
        "Feed",
    ]


def test_metrics_endpoint_serves_the_text_format_and_honours_its_token(settings):
    UserFactory.create()
    run_job_now(kind="reconcile", parameters={"fix": False})
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    response = Client().get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-token"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    names = {f.name for f in text_string_to_metric_families(response.content.decode())}
    assert {"ledger_jobs", "ledger_reconcile_drift_found", "graphql_open_subscriptions"} <= names
    assert Client().get("/metrics").status_code == 401
    wrong = Client().get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = Client().get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-token"})
    assert right.status_code == 200


def test_without_a_token_metrics_answer_nobody_but_in_debug(settings):
    settings.METRICS_TOKEN = None
    settings.DEBUG = False
    refused = Client().get("/metrics")
    assert refused.status_code == 403
    assert b"METRICS_TOKEN" in refused.content
    assert Client().get("/metrics", headers={"Authorization": "Bearer x"}).status_code == 403
    settings.DEBUG = True
    assert Client().get("/metrics").status_code == 200


WRITER = """
import django, sys
django.setup()
from ledger.metrics import EVENTS_RECORDED
from graphql_api.metrics import OPEN_SUBSCRIPTIONS
EVENTS_RECORDED.labels(event_type="match_won", source="tournaments.match").inc(int(sys.argv[1]))
OPEN_SUBSCRIPTIONS.inc(int(sys.argv[2]))
"""


def test_multiprocess_mode_sums_every_process_and_drops_dead_ones_from_livesum(tmp_path):
    """Two writer processes, then the view's collector in a third: counters add up across
    processes; the open-subscriptions gauge (livesum) forgets processes marked dead."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    env.pop("DJANGO_TEST_DB_NAME", None)
    pids = []
    for events, subscriptions in (("3", "2"), ("4", "5")):
        done = subprocess.Popen(
            [sys.executable, "-c", WRITER, events, subscriptions], cwd=ROOT, env=env
        )
        assert done.wait(timeout=60) == 0
        pids.append(done.pid)
    reader = """
import sys
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
if len(sys.argv) > 1:
    mark_process_dead(int(sys.argv[1]))
registry = CollectorRegistry()
MultiProcessCollector(registry)
sys.stdout.write(generate_latest(registry).decode())
"""

    def scrape(*args: str) -> dict[str, float]:
        out = run_python(["-c", reader, *args], env=env).stdout
        samples = {}
        for family in text_string_to_metric_families(out):
            for sample in family.samples:
                samples[sample.name] = sample.value
        return samples

    both = scrape()
    assert both["ledger_events_recorded_total"] == 7
    assert both["graphql_open_subscriptions"] == 7
    one_dead = scrape(str(pids[0]))
    assert one_dead["ledger_events_recorded_total"] == 7  # counters keep the dead's counts
    assert one_dead["graphql_open_subscriptions"] == 5
