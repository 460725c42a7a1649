"""A job is never lost to a dead worker: real Celery workers on Redis and PostgreSQL, SIGKILLed.

A backfill (and a reconcile with ``fix``) runs on a worker over a history of coin transactions
the ledger has no events for. Once some batches have committed, the worker and its pool
children are killed with SIGKILL (the whole process group, as an out-of-memory kill or a lost
host would). A new worker is started: it finds the job's lease expired, takes the job again,
and the job resumes from its checkpoints and ends SUCCEEDED with every event recorded exactly
once, which a fresh reconcile confirms. The lease is short (LEASE) so that all this takes
seconds.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.test import override_settings

from esports.economy.models import DeltaCrownTransaction
from ledger.models import LedgerJob, UserActivity, UserProfileStats
from ledger.operations import jobs as jobs_module
from ledger.operations.jobs import submit_job
from ledger.operations.reconcile import reconcile_stats
from tests.factories import UserFactory, transaction_for
from tests.support import processes, services
from tests.support.processes import ROOT

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]

REDIS_DB = 15
"""A Redis db of these tests' own (11, 12, 13 and 14 are other end-to-end tests')."""
LEASE = 2.0
ROWS = 30_000
"""Fifteen batches of 2,000: a few seconds of work, so the kill lands mid-job."""
WAIT = 60.0
WORKER = [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency", "2"]
WORKER += ["--without-gossip", "--without-mingle"]  # as deploy/Procfile runs it

Status = LedgerJob.Status


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL to the worker and its pool children (one process group)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


class Workers:
    """Starts Celery workers on the test's database and broker; kills them all at the end."""

    def __init__(self, broker: str, directory: Path) -> None:
        self.directory = directory
        self.started: list[Worker] = []
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "CELERY_", "PROMETHEUS_", "REDIS_", "PYTEST_", "LOG"))
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=services.postgres_url(settings.DATABASES["default"]),
            CELERY_BROKER_URL=broker,
            LEDGER_JOB_LEASE_SECONDS=str(LEASE),
            LOG_FORMAT="plain",
            LOG_LEVEL="INFO",
        )

    def start(self) -> Worker:
        n = len(self.started) + 1
        log = self.directory / f"worker{n}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*WORKER, "-n", f"sigkill{n}@%h"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killpg reaches the children
            )
        worker = Worker(process, log)
        self.started.append(worker)
        wait_until(lambda: " ready." in worker.text(), f"worker {n} to be ready", worker)
        return worker

    def kill_all(self) -> None:
        for worker in self.started:
            worker.kill()


@pytest.fixture
def broker() -> Iterator[str]:
    import redis

    url = services.redis_url(REDIS_DB)
    redis.Redis.from_url(url, socket_timeout=5).flushdb()
    yield url
    redis.Redis.from_url(url, socket_timeout=5).flushdb()


@pytest.fixture
def workers(transactional_db: Any, broker: str, tmp_path: Path) -> Iterator[Workers]:
    """Torn down before the database is flushed: no worker outlives the test."""
    started = Workers(broker, tmp_path)
    try:
        yield started
    finally:
        started.kill_all()


def wait_until(check: Callable[[], Any], what: str, worker: Worker | None = None) -> Any:
    """Polled often: the kill must land while the job is mid-way."""
    return processes.wait_until(
        check,
        what,
        timeout=WAIT,
        every=0.05,
        context=lambda: worker.text()[-3000:] if worker is not None else "",
    )


def coins_without_events(users: int = 20) -> list[int]:
    """``ROWS`` coin transactions over ``users`` users, bulk-created: no events recorded."""
    people = UserFactory.create_batch(users)
    rows = DeltaCrownTransaction.objects.bulk_create(
        [
            DeltaCrownTransaction(
                wallet=people[n % users].wallet, amount=1 + n % 50, reason="participation"
            )
            for n in range(ROWS)
        ],
        batch_size=5000,
    )
    return [row.pk for row in rows]


def send(broker: str, kind: str, parameters: dict[str, Any]) -> LedgerJob:
    """Submit a job as the API does with a broker, its message sent to the test's Redis."""
    from config.celery import app
    from ledger.tasks import run_ledger_job

    with (
        override_settings(CELERY_BROKER_URL=broker),
        mock.patch.object(jobs_module, "send_job"),
    ):
        job = submit_job(kind=kind, parameters=parameters, requested_by=None)
    with app.connection_for_write(broker) as connection:
        run_ledger_job.apply_async(args=(job.pk,), connection=connection)
    return job


def kill_mid_job(worker: Worker, job: LedgerJob) -> LedgerJob:
    """SIGKILL once at least two batches have committed (and before the job could end)."""

    def mid_job() -> LedgerJob | None:
        job.refresh_from_db()
        assert job.status in (Status.PENDING, Status.RUNNING), job.status
        return job if job.progress_done >= 4000 else None

    wait_until(mid_job, "two committed batches", worker)
    worker.kill()
    job.refresh_from_db()
    assert job.status == Status.RUNNING
    assert job.progress_total is not None
    assert job.progress_done < job.progress_total
    return job


def holder(workers: Workers, job: LedgerJob) -> Worker:
    """The worker whose pool child holds the job's lease (host:pid:token)."""
    child = int(job.lease_owner.split(":")[1])
    [worker] = [w for w in workers.started if os.getpgid(child) == w.process.pid]
    return worker


def taken_again(job: LedgerJob, worker: Worker) -> tuple[LedgerJob, float]:
    """Wait for the job to be taken again and to end; return it, and how long it was left
    untaken from now."""
    since = time.monotonic()

    def second_attempt() -> bool:
        job.refresh_from_db()
        return job.attempts >= 2

    wait_until(second_attempt, "the job to be taken again", worker)
    retaken = time.monotonic() - since

    def ended() -> LedgerJob | None:
        job.refresh_from_db()
        return job if job.status in LedgerJob.FINISHED else None

    wait_until(ended, "the job to end", worker)
    return job, retaken


def assert_each_event_once(coins: list[int]) -> None:
    recorded = list(
        UserActivity.objects.filter(source_model="economy.transaction").values_list(
            "source_id", flat=True
        )
    )
    assert len(recorded) == len(set(recorded)) == len(coins)
    assert set(recorded) == set(coins)
    check = reconcile_stats()  # report only: what a recompute and a convergence find
    assert (check.drifted, check.missing_events_total, check.unerased_users) == ([], 0, [])


def assert_taken_after_a_dead_worker(job: LedgerJob) -> None:
    assert job.status == Status.SUCCEEDED, (job.error, job.attempt_errors)
    assert job.attempts == 2
    [lost] = job.attempt_errors
    assert lost["attempt"] == 1
    assert lost["worker"].startswith(f"{socket.gethostname()}:")
    assert lost["error"].startswith("LeaseExpired")
    assert (job.lease_owner, job.lease_expires_at) == ("", None)


def test_a_backfill_whose_worker_was_killed_is_taken_again_by_a_new_worker(
    workers: Workers, broker: str
) -> None:
    """No worker left alive: the next one to start takes the job (it sweeps at start)."""
    coins = coins_without_events()
    first = workers.start()
    job = send(broker, "backfill", {"sources": ["economy.transaction"]})

    killed = kill_mid_job(first, job)
    recorded_before = UserActivity.objects.count()
    assert 0 < recorded_before < ROWS
    second = workers.start()

    job, retaken = taken_again(killed, second)

    assert_taken_after_a_dead_worker(job)
    # the lease (LEASE at most) ran out while the worker started, so its first sweep took it
    assert retaken < LEASE, retaken
    assert job.result["by_source"]["economy.transaction"]["resumed_after_pk"] is not None
    assert job.result["events"] == ROWS - recorded_before  # the rest, from the checkpoint on
    assert_each_event_once(coins)


def test_a_reconcile_fix_whose_worker_was_killed_is_taken_again_by_a_live_worker(
    workers: Workers, broker: str
) -> None:
    """Another worker is running: it takes the job once the lease has run out (it sweeps every
    quarter lease)."""
    drifted = UserFactory.create(username="drifted")
    transaction_for(drifted, 70)  # recorded live: a stats row exists
    UserProfileStats.objects.filter(user=drifted).update(total_earned=1)
    coins = coins_without_events()
    workers.start()
    workers.start()
    job = send(broker, "reconcile", {"fix": True})

    wait_until(lambda: LedgerJob.objects.get(pk=job.pk).lease_owner, "a worker to take it")
    job.refresh_from_db()
    running = holder(workers, job)
    killed = kill_mid_job(running, job)
    assert 0 < UserActivity.objects.filter(source_model="economy.transaction").count() < ROWS
    [survivor] = [w for w in workers.started if w is not running]

    job, retaken = taken_again(killed, survivor)

    assert_taken_after_a_dead_worker(job)
    assert retaken < LEASE * 1.25 + 1.5, retaken  # the lease, a sweep interval, some slack
    assert UserProfileStats.objects.get(user=drifted).total_earned == 70
    assert [user["user_id"] for user in job.result["drifted"]] == [drifted.pk]
    assert_each_event_once([*coins, *_live_coins(drifted)])


def _live_coins(user: Any) -> list[int]:
    return list(
        DeltaCrownTransaction.objects.filter(wallet__user=user).values_list("pk", flat=True)
    )
