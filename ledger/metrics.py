"""The ledger's Prometheus metrics: what it recorded, how fast, what it skipped, drift, jobs.

prometheus_client picks its storage when it is imported: with ``PROMETHEUS_MULTIPROC_DIR`` set,
every process (ASGI workers, Celery worker and its children, commands) writes to files there and
``/metrics`` sums them (gauges by their ``multiprocess_mode``); unset, one in-process registry.
This module holds definitions and tiny helpers only; nothing here touches the database (the
stale-lease collector is handed its query).
"""

from __future__ import annotations

import functools
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ParamSpec, TypeVar

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric

from ledger.drafts import NewEvent, RecordedEvent

P = ParamSpec("P")
R = TypeVar("R")

EVENTS_RECORDED = Counter(
    "ledger_events_recorded",
    "Events appended to the ledger, counted after their transaction committed.",
    ["event_type", "source"],
)
RECORDING_SECONDS = Histogram(
    "ledger_record_activity_seconds",
    "Time spent in record_activity (one batch: insert, fold, stats update).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
DUPLICATES_SKIPPED = Counter(
    "ledger_duplicate_events_skipped",
    "Events offered to record_activity that were already recorded (planned minus inserted).",
    ["source"],
)
RECONCILE_DRIFT_FOUND = Gauge(
    "ledger_reconcile_drift_found",
    "Found by the last reconcile: users whose stats drifted (kind=users), events missing from "
    "the ledger (kind=events), erased users still holding events or stats (kind=unerased). "
    "scope=all for a run over every user, users for a chosen few.",
    ["kind", "scope"],
    multiprocess_mode="mostrecent",
)
RECONCILE_DRIFT_FIXED = Gauge(
    "ledger_reconcile_drift_fixed",
    "Repaired by the last reconcile: stats rows rewritten (kind=users), events recorded "
    "(kind=events), erased users erased again (kind=unerased); 0 for a report-only run.",
    ["kind", "scope"],
    multiprocess_mode="mostrecent",
)
RECONCILE_LAST_RUN = Gauge(
    "ledger_reconcile_last_run_timestamp_seconds",
    "When the last reconcile finished (Unix time).",
    ["scope"],
    multiprocess_mode="mostrecent",
)
JOBS = Counter(
    "ledger_jobs",
    "Ledger job status transitions (pending when recorded, running at each attempt, then "
    "succeeded, failed or cancelled).",
    ["kind", "status"],
)
JOB_ATTEMPTS = Counter(
    "ledger_job_attempts",
    "Ledger job attempts that ended, by outcome: succeeded, failed (an error; tried again while "
    "attempts are left), cancelled, expired (its worker stopped renewing the lease: killed).",
    ["kind", "outcome"],
)


def timed_recording(record: Callable[P, list[RecordedEvent]]) -> Callable[P, list[RecordedEvent]]:
    """Wrap the write path: time each batch and count the drafts it skipped as duplicates."""

    @functools.wraps(record)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> list[RecordedEvent]:
        started = time.perf_counter()
        recorded = record(*args, **kwargs)
        RECORDING_SECONDS.observe(time.perf_counter() - started)
        events: Sequence[NewEvent] = kwargs.get("events") or ()  # type: ignore[assignment]
        if len(events) > len(recorded):
            planned = Tally(event.source_model for event in events)
            planned.subtract(event.source_model for event in recorded)
            for source, skipped in planned.items():
                if skipped > 0:
                    DUPLICATES_SKIPPED.labels(source=source).inc(skipped)
        return recorded

    return wrapper


def count_recorded_events(sender: Any, *, events: Sequence[RecordedEvent], **kwargs: Any) -> None:
    """``activity_recorded`` receiver (sent on commit): a rolled-back batch is never counted."""
    for (event_type, source), n in Tally((e.event_type, e.source_model) for e in events).items():
        EVENTS_RECORDED.labels(event_type=event_type, source=source).inc(n)


def job_status_changed(*, kind: str, status: str) -> None:
    JOBS.labels(kind=kind, status=status).inc()


def job_attempt_ended(*, kind: str, outcome: str) -> None:
    JOB_ATTEMPTS.labels(kind=kind, outcome=outcome).inc()


class StaleLeaseCollector:
    """``ledger_jobs_stale_leases``: read from the database when /metrics is scraped, because no
    process can report that its own worker died. Every process that answers reads the same
    rows, so across machines take the max, not the sum."""

    def __init__(self, count: Callable[[], dict[str, int]]) -> None:
        self._count = count

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "ledger_jobs_stale_leases",
            "Running ledger jobs whose lease has expired: their worker stopped renewing it "
            "(killed, or cut off) and no worker has taken them again yet.",
            labels=["kind"],
        )
        for kind, n in sorted(self._count().items()):
            family.add_metric([kind], n)
        yield family


def reconcile_finished(
    *,
    full: bool,
    drifted_users: int,
    missing_events: int,
    fixed_users: int,
    recorded_events: int,
    unerased_users: int = 0,
    erased_again: int = 0,
) -> None:
    """Publish what the reconcile that just ended found and fixed (the alert reads scope=all)."""
    scope = "all" if full else "users"
    RECONCILE_DRIFT_FOUND.labels(kind="users", scope=scope).set(drifted_users)
    RECONCILE_DRIFT_FOUND.labels(kind="events", scope=scope).set(missing_events)
    RECONCILE_DRIFT_FIXED.labels(kind="users", scope=scope).set(fixed_users)
    RECONCILE_DRIFT_FIXED.labels(kind="events", scope=scope).set(recorded_events)
    RECONCILE_DRIFT_FOUND.labels(kind="unerased", scope=scope).set(unerased_users)
    RECONCILE_DRIFT_FIXED.labels(kind="unerased", scope=scope).set(erased_again)
    RECONCILE_LAST_RUN.labels(scope=scope).set(time.time())
