"""Job leases: one holder at a time, a lost lease stops the operation, cancel, bounded attempts.

Most tests run a backfill of six coin transactions in batches of two, so there are checkpoints
to stop at; what a stop leaves behind is then exactly the committed batches.
"""

from __future__ import annotations

import functools
import io
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from esports.economy.models import DeltaCrownTransaction
from ledger.exceptions import InvalidJobError
from ledger.models import BackfillCheckpoint, ErasedSubject, LedgerJob, UserActivity
from ledger.models.erasure import user_digest
from ledger.operations import jobs as jobs_module
from ledger.operations import leases
from ledger.operations.backfill import backfill_activity
from ledger.operations.jobs import (
    JobStoppedError,
    cancel_job,
    requeue_stale_jobs,
    run_job,
    run_job_now,
    submit_job,
)
from tests.esports.scenario import run_in_threads
from tests.factories import UserFactory, transaction_for
from tests.ledger.operations.job_states import abandon, hold, queued
from tests.observability.exercise import value

Status = LedgerJob.Status
COINS = ["economy.transaction"]
ROWS = 6


@pytest.fixture
def coins() -> list[int]:
    """Six coin transactions the ledger has no events for (bulk-created: no receivers ran)."""
    user = UserFactory.create(username="coins_lease")
    made = DeltaCrownTransaction.objects.bulk_create(
        [
            DeltaCrownTransaction(wallet=user.wallet, amount=10 * (n + 1), reason="winner")
            for n in range(ROWS)
        ]
    )
    return [row.pk for row in made]


@pytest.fixture
def in_batches_of_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        jobs_module, "backfill_activity", functools.partial(backfill_activity, batch_size=2)
    )


def coin_job() -> LedgerJob:
    """A backfill of the coin transactions, waiting for a worker."""
    return queued(parameters={"sources": COINS})


def coin_events() -> list[int]:
    """Source ids of the coin events, one per recorded event (a duplicate would show twice)."""
    return sorted(
        UserActivity.objects.filter(source_model="economy.transaction").values_list(
            "source_id", flat=True
        )
    )


def at_checkpoint(n: int, then: Callable[[LedgerJob], None]) -> Callable[[int, int | None], None]:
    """A progress callback that calls ``then(job)`` at the n-th checkpoint (from 1)."""
    seen = 0

    def progress(done: int, total: int | None) -> None:
        nonlocal seen
        seen += 1
        if seen == n:
            then(LedgerJob.objects.get())

    return progress


@pytest.mark.django_db
@pytest.mark.usefixtures("in_batches_of_two")
class TestLostLease:
    def test_a_worker_that_lost_its_lease_stops_at_the_next_checkpoint_and_writes_nothing(
        self, coins: list[int]
    ) -> None:
        def taken_by_another(job: LedgerJob) -> None:
            hold(job, owner="other-host:1:beef")

        with pytest.raises(JobStoppedError, match="held by another worker now"):
            run_job_now(
                kind="backfill",
                parameters={"sources": COINS},
                progress=at_checkpoint(1, taken_by_another),
            )

        job = LedgerJob.objects.get()
        assert (job.status, job.lease_owner, job.result) == (
            Status.RUNNING,
            "other-host:1:beef",
            {},
        )
        assert coin_events() == coins[:2]  # the one batch that committed, nothing after it
        assert BackfillCheckpoint.objects.get(source=COINS[0]).last_pk == coins[1]

    def test_once_that_lease_expires_the_job_is_taken_again_and_resumes(
        self, coins: list[int]
    ) -> None:
        job = coin_job()
        assert leases.claim(job_id=job.pk) is not None  # a worker takes it, commits a batch,
        with pytest.raises(Killed):  # and is killed
            backfill_activity(sources=COINS, batch_size=2, progress=killed_after_a_batch)
        abandon(job)

        done = run_job(job_id=job.pk)

        assert (done.status, done.attempts) == (Status.SUCCEEDED, 2)
        [lost] = done.attempt_errors
        assert lost["attempt"] == 1
        assert lost["worker"] == "dead-host:4242:cafe"
        assert lost["error"].startswith("LeaseExpired: the worker stopped renewing its lease")
        assert coin_events() == coins  # each event exactly once
        assert done.result["by_source"][COINS[0]]["resumed_after_pk"] == coins[1]
        assert (done.lease_owner, done.lease_expires_at, done.error) == ("", None, "")

    def test_a_live_lease_is_not_taken_and_a_redelivered_message_does_nothing(
        self, coins: list[int]
    ) -> None:
        job = coin_job()
        hold(job)
        assert leases.claim(job_id=job.pk) is None
        assert run_job(job_id=job.pk).status == Status.RUNNING
        assert coin_events() == []


class Killed(Exception):
    """A worker's death, as far as the operation it was running can tell."""


def killed_after_a_batch(done: int, total: int | None) -> None:
    raise Killed


@pytest.mark.django_db
@pytest.mark.usefixtures("in_batches_of_two")
class TestCancel:
    def test_a_pending_job_is_cancelled_at_once_and_its_message_then_does_nothing(
        self, coins: list[int]
    ) -> None:
        staff = UserFactory.create(is_staff=True)
        job = coin_job()

        cancelled = cancel_job(job_id=job.pk, cancelled_by=staff)

        assert (cancelled.status, cancelled.cancelled_by) == (Status.CANCELLED, staff)
        assert cancelled.finished_at is not None
        assert cancelled.cancel_requested_at is not None
        assert run_job(job_id=job.pk).status == Status.CANCELLED
        assert cancelled.attempts == 0
        assert coin_events() == []

    def test_a_running_job_stops_at_its_next_checkpoint_with_nothing_half_written(
        self, coins: list[int]
    ) -> None:
        staff = UserFactory.create(is_staff=True)
        asked: list[LedgerJob] = []
        cancelled_before = value("ledger_jobs_total", kind="backfill", status="cancelled")

        def cancel(job: LedgerJob) -> None:
            asked.append(cancel_job(job_id=job.pk, cancelled_by=staff))

        with pytest.raises(JobStoppedError, match="was cancelled"):
            run_job_now(
                kind="backfill", parameters={"sources": COINS}, progress=at_checkpoint(1, cancel)
            )

        [while_running] = asked
        assert while_running.status == Status.RUNNING  # asked; it stops at its checkpoint
        assert while_running.cancel_requested_at is not None
        job = LedgerJob.objects.get()
        assert (job.status, job.result, job.cancelled_by) == (Status.CANCELLED, {}, staff)
        assert (job.lease_owner, job.lease_expires_at) == ("", None)
        cancelled = value("ledger_jobs_total", kind="backfill", status="cancelled")
        assert cancelled - cancelled_before == 1
        assert coin_events() == coins[:2]
        assert BackfillCheckpoint.objects.get(source=COINS[0]).last_pk == coins[1]
        again, _ = run_job_now(kind="backfill", parameters={"sources": COINS})
        assert again.result["events"] == ROWS - 2  # resumes after the committed batch
        assert coin_events() == coins

    def test_a_cancel_after_the_last_checkpoint_is_too_late(self, coins: list[int]) -> None:
        def cancel(job: LedgerJob) -> None:
            cancel_job(job_id=job.pk, cancelled_by=None)

        last = ROWS // 2  # the checkpoint after the third and last batch
        job, report = run_job_now(
            kind="backfill", parameters={"sources": COINS}, progress=at_checkpoint(last, cancel)
        )
        assert job.status == Status.SUCCEEDED
        assert report.total_events == ROWS

    def test_a_running_job_whose_worker_died_is_cancelled_at_once(self, coins: list[int]) -> None:
        job = coin_job()
        abandon(job)

        assert cancel_job(job_id=job.pk, cancelled_by=None).status == Status.CANCELLED
        assert run_job(job_id=job.pk).status == Status.CANCELLED
        assert coin_events() == []

    def test_a_finished_job_cannot_be_cancelled(self, coins: list[int]) -> None:
        job, _ = run_job_now(kind="backfill", parameters={"sources": COINS})
        with pytest.raises(InvalidJobError, match=f"Job {job.pk} has already finished"):
            cancel_job(job_id=job.pk, cancelled_by=None)
        with pytest.raises(LedgerJob.DoesNotExist):
            cancel_job(job_id=job.pk + 1, cancelled_by=None)
        assert LedgerJob.objects.get().status == Status.SUCCEEDED


@pytest.mark.django_db
class TestAttempts:
    def test_a_job_that_keeps_failing_ends_failed_after_the_bound_with_every_error(
        self, monkeypatch: pytest.MonkeyPatch, coins: list[int]
    ) -> None:
        failures = iter(["disk full", "connection reset", "out of memory"])

        def fail(**_: Any) -> Any:
            raise RuntimeError(next(failures))

        monkeypatch.setattr(jobs_module, "backfill_activity", fail)
        failed_before = value("ledger_job_attempts_total", kind="backfill", outcome="failed")
        with override_settings(LEDGER_JOB_MAX_ATTEMPTS=3):
            job = submit_job(kind="backfill", parameters={"sources": COINS}, requested_by=None)

        assert (job.status, job.attempts) == (Status.FAILED, 3)
        assert [(e["attempt"], e["error"]) for e in job.attempt_errors] == [
            (1, "RuntimeError: disk full"),
            (2, "RuntimeError: connection reset"),
            (3, "RuntimeError: out of memory"),
        ]
        assert job.error == "RuntimeError: out of memory"
        failed = value("ledger_job_attempts_total", kind="backfill", outcome="failed")
        assert failed - failed_before == 3

    def test_an_attempt_that_fails_is_tried_again_and_its_error_kept(
        self, monkeypatch: pytest.MonkeyPatch, coins: list[int]
    ) -> None:
        real = jobs_module.backfill_activity
        calls = iter([RuntimeError("deadlock, twice")])

        def flaky(**kwargs: Any) -> Any:
            error = next(calls, None)
            if error is not None:
                raise error
            return real(**kwargs)

        monkeypatch.setattr(jobs_module, "backfill_activity", flaky)
        job = submit_job(kind="backfill", parameters={"sources": COINS}, requested_by=None)

        assert (job.status, job.attempts, job.error) == (Status.SUCCEEDED, 2, "")
        assert [e["error"] for e in job.attempt_errors] == ["RuntimeError: deadlock, twice"]
        assert coin_events() == coins

    def test_killed_workers_count_as_attempts_and_the_last_one_fails_the_job(
        self, coins: list[int]
    ) -> None:
        job = coin_job()
        expired_before = value("ledger_job_attempts_total", kind="backfill", outcome="expired")
        with override_settings(LEDGER_JOB_MAX_ATTEMPTS=2):
            for n in (1, 2):
                lease = leases.claim(job_id=job.pk)
                assert lease is not None
                assert lease.job.attempts == n
                abandon(job, owner=f"killed:{n}:0000")
            assert leases.claim(job_id=job.pk) is None

        job.refresh_from_db()
        assert (job.status, job.attempts) == (Status.FAILED, 2)
        assert [e["worker"] for e in job.attempt_errors] == ["killed:1:0000", "killed:2:0000"]
        assert job.error.startswith("LeaseExpired")
        assert coin_events() == []
        expired = value("ledger_job_attempts_total", kind="backfill", outcome="expired")
        assert expired - expired_before == 2

    def test_a_job_that_cannot_run_as_asked_is_not_tried_again(self) -> None:
        user = UserFactory.create()
        job = queued(kind="export", parameters={"user_id": user.pk})
        with mock.patch.object(jobs_module, "_user", side_effect=InvalidJobError("Unknown user")):
            done = run_job(job_id=job.pk)
        assert (done.status, done.attempts, done.error) == (
            Status.FAILED,
            1,
            "InvalidJobError: Unknown user",
        )


@pytest.mark.django_db
class TestSweep:
    def test_each_job_no_live_worker_holds_is_sent_once_per_lease(self, coins: list[int]) -> None:
        dead, waiting, live, fresh = (coin_job() for _ in range(4))
        abandon(dead)
        LedgerJob.objects.filter(pk=waiting.pk).update(
            queued_at=timezone.now() - timedelta(hours=1)
        )
        hold(live)
        LedgerJob.objects.filter(pk=live.pk).update(queued_at=timezone.now() - timedelta(hours=1))
        finished, _ = run_job_now(kind="backfill", parameters={"sources": COINS})
        LedgerJob.objects.filter(pk=finished.pk).update(
            queued_at=timezone.now() - timedelta(hours=1)
        )
        sent: list[int] = []

        assert sorted(leases.requeue_stale_jobs(send=sent.append)) == sorted([dead.pk, waiting.pk])
        assert leases.requeue_stale_jobs(send=sent.append) == []  # a second worker's sweep
        assert sorted(sent) == sorted([dead.pk, waiting.pk])
        assert fresh.pk not in sent  # pending, but not for a lease yet

    def test_without_a_broker_resume_ledger_jobs_runs_them_here(self, coins: list[int]) -> None:
        job = coin_job()
        LedgerJob.objects.filter(pk=job.pk).update(queued_at=timezone.now() - timedelta(hours=1))
        out = io.StringIO()
        with override_settings(CELERY_BROKER_URL=None):
            call_command("resume_ledger_jobs", stdout=out)
        assert out.getvalue() == f"Jobs taken again (run here): {job.pk}.\n"
        assert LedgerJob.objects.get(pk=job.pk).status == Status.SUCCEEDED
        assert coin_events() == coins

    def test_with_a_broker_the_sweep_sends_the_job_again(self, coins: list[int]) -> None:
        job = coin_job()
        abandon(job)
        with (
            override_settings(CELERY_BROKER_URL="memory://"),
            mock.patch.object(jobs_module, "send_job") as send,
        ):
            assert requeue_stale_jobs() == [job.pk]
        send.assert_called_once_with(job.pk)

    def test_stale_leases_are_counted_by_kind_and_scraped(
        self, client: Any, coins: list[int], settings: Any
    ) -> None:
        settings.METRICS_TOKEN = "scrape-token"
        abandon(coin_job())
        assert leases.stale_lease_counts() == {
            "backfill": 1,
            "reconcile": 0,
            "export": 0,
            "anonymize": 0,
            "archive": 0,
        }
        body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token").content.decode()
        assert 'ledger_jobs_stale_leases{kind="backfill"} 1.0' in body
        assert 'ledger_jobs_stale_leases{kind="export"} 0.0' in body


@pytest.mark.django_db
class TestAnonymizeTakenAgain:
    def test_without_the_message_the_subject_is_found_by_its_digest(self) -> None:
        user = UserFactory.create(username="erase_me")
        transaction_for(user, 5)
        UserFactory.create_batch(3)
        job = queued(kind="anonymize", parameters={"user_id": user.pk})
        assert "user_id" not in job.parameters
        abandon(job)

        done = run_job(job_id=job.pk)  # no user id: the message died with its worker

        assert done.status == Status.SUCCEEDED, done.attempt_errors
        subject = ErasedSubject.objects.get()
        assert str(subject.public_id) == done.parameters["erased_subject"]
        assert subject.user_digest == done.subject_digest
        assert not UserActivity.objects.filter(user=user).exists()

    def test_a_subject_no_user_matches_fails_the_job_at_once(self) -> None:
        job = queued(kind="anonymize", parameters={"user_id": UserFactory.create().pk})
        LedgerJob.objects.filter(pk=job.pk).update(subject_digest=user_digest(987_654))
        done = run_job(job_id=job.pk)
        assert (done.status, done.attempts) == (Status.FAILED, 1)
        assert done.error == (
            "InvalidJobError: No user is this job's subject any more (deleted since it was asked?)."
        )
        assert not ErasedSubject.objects.exists()

    def test_a_message_naming_another_user_is_refused(self) -> None:
        user, other = UserFactory.create(), UserFactory.create()
        job = queued(kind="anonymize", parameters={"user_id": user.pk})
        done = run_job(job_id=job.pk, user_id=other.pk)
        assert (done.status, done.error) == (
            Status.FAILED,
            "InvalidJobError: The user id given is not this job's subject.",
        )
        assert not ErasedSubject.objects.exists()


# --- PostgreSQL: real threads, each on its own connection ------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestOneHolder:
    @pytest.mark.parametrize("left_by", ["pending", "a dead worker"])
    def test_of_many_claimants_at_once_exactly_one_takes_the_job(self, left_by: str) -> None:
        job = coin_job()
        if left_by == "a dead worker":
            abandon(job)
        taken: list[leases.Lease] = []

        def claim(_: int) -> None:
            lease = leases.claim(job_id=job.pk)
            if lease is not None:
                taken.append(lease)

        assert run_in_threads(claim, 8) == []
        [winner] = taken
        job.refresh_from_db()
        assert (job.status, job.lease_owner, job.attempts) == (Status.RUNNING, winner.owner, 1)
        assert len(job.attempt_errors) == (1 if left_by == "a dead worker" else 0)

    def test_the_heartbeat_keeps_the_lease_through_a_batch_longer_than_it(self) -> None:
        job = coin_job()
        with override_settings(LEDGER_JOB_LEASE_SECONDS=0.6):
            lease = leases.claim(job_id=job.pk)
            assert lease is not None
            with leases.Heartbeat(lease) as heartbeat:
                deadline = time.monotonic() + 2.0  # over three leases, no checkpoint
                while time.monotonic() < deadline:
                    assert leases.claim(job_id=job.pk) is None
                    time.sleep(0.1)
                assert heartbeat.state is leases.LeaseState.HELD
            time.sleep(0.7)  # no heartbeat now: the lease runs out
            assert leases.claim(job_id=job.pk) is not None

    def test_the_heartbeat_notices_a_lost_lease_before_the_next_checkpoint(self) -> None:
        job = coin_job()
        with override_settings(LEDGER_JOB_LEASE_SECONDS=0.6):
            lease = leases.claim(job_id=job.pk)
            assert lease is not None
            with leases.Heartbeat(lease) as heartbeat:
                LedgerJob.objects.filter(pk=job.pk).update(lease_owner="thief:1:0000")
                deadline = time.monotonic() + 2.0
                while heartbeat.state is not leases.LeaseState.LOST:
                    assert time.monotonic() < deadline, "the heartbeat did not notice"
                    time.sleep(0.05)
                with pytest.raises(jobs_module.OperationStopped):
                    heartbeat.checkpoint(done=1, total=2)
        assert LedgerJob.objects.get(pk=job.pk).lease_owner == "thief:1:0000"

    def test_a_cancel_from_another_connection_stops_a_running_backfill(
        self, monkeypatch: pytest.MonkeyPatch, coins: list[int]
    ) -> None:
        job = coin_job()
        started, go_on = threading.Event(), threading.Event()

        def slow(done: int, total: int | None) -> None:
            started.set()
            assert go_on.wait(10)

        monkeypatch.setattr(
            jobs_module, "backfill_activity", functools.partial(backfill_activity, batch_size=2)
        )

        def run() -> None:
            try:
                run_job(job_id=job.pk, progress=slow)
            finally:
                connection.close()

        runner = threading.Thread(target=run)
        runner.start()
        assert started.wait(10)
        assert cancel_job(job_id=job.pk, cancelled_by=None).status == Status.RUNNING
        go_on.set()
        runner.join(10)
        job.refresh_from_db()
        assert job.status == Status.CANCELLED
        assert coin_events() == coins[:2]
