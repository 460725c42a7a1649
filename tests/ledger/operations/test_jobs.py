"""Jobs: recorded, validated before any write, inline without a broker, on Celery with one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.test import override_settings

from esports.tournaments.models import TournamentResult
from ledger.exceptions import InvalidJobError, UnknownSourceError
from ledger.models import BackfillCheckpoint, ErasedSubject, LedgerJob, UserActivity
from ledger.operations import jobs as jobs_module
from ledger.operations.jobs import submit_job
from tests.factories import RegistrationFactory, UserFactory, transaction_for
from tests.ledger.operations.history import at, history_without_events

pytestmark = pytest.mark.django_db


def _coins_without_events() -> Any:
    def build() -> Any:
        user = UserFactory.create(username="coins_job")
        for amount in (10, 20, 30):
            transaction_for(user, amount)
        return user

    user, _ = history_without_events(build)
    return user


def test_backfill_job_runs_inline_without_a_broker() -> None:
    _coins_without_events()
    staff = UserFactory.create(is_staff=True)

    job = submit_job(
        kind="backfill", parameters={"sources": None, "dry_run": False}, requested_by=staff
    )

    assert job.status == LedgerJob.Status.SUCCEEDED
    assert job.requested_by == staff
    assert job.started_at is not None
    assert job.finished_at is not None
    assert job.result["events"] == 3
    assert job.result["by_source"]["economy.transaction"]["events"] == {"coins_earned": 3}
    assert job.progress_done == job.progress_total == job.result["rows"]
    assert UserActivity.objects.count() == 3


@pytest.mark.parametrize(
    ("kind", "parameters", "error", "message"),
    [
        ("backfill", {"sources": ["economy.nope"]}, UnknownSourceError, r"Valid sources: .*teams"),
        ("export", {"user_id": 999_999}, InvalidJobError, "Unknown user id 999999"),
        ("anonymize", {"user_id": "bob"}, InvalidJobError, "must be an integer"),
        ("reconcile", {"user_ids": [999_999]}, InvalidJobError, "Unknown user id"),
        ("rebuild", {}, InvalidJobError, "Valid kinds: backfill, reconcile"),
    ],
)
def test_bad_parameters_are_refused_before_anything_is_written(
    kind: str, parameters: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        submit_job(kind=kind, parameters=parameters, requested_by=None)
    assert not LedgerJob.objects.exists()
    assert not ErasedSubject.objects.exists()


def test_a_failed_job_keeps_a_clear_error_and_nothing_half_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _coins_without_events()
    real = jobs_module.backfill_activity

    def broken_batch(**kwargs: Any) -> Any:
        from ledger.operations import backfill

        def explode(**_: Any) -> Any:
            raise RuntimeError("database went away")

        monkeypatch.setattr(backfill, "record_activity", explode)
        return real(**kwargs)

    monkeypatch.setattr(jobs_module, "backfill_activity", broken_batch)

    job = submit_job(
        kind="backfill", parameters={"sources": ["economy.transaction"]}, requested_by=None
    )

    assert job.status == LedgerJob.Status.FAILED
    assert job.error == "RuntimeError: database went away"
    assert job.finished_at is not None
    assert not UserActivity.objects.exists()
    assert BackfillCheckpoint.objects.get().last_pk == 0  # the batch and its checkpoint rolled back


def test_with_a_broker_the_job_is_enqueued_and_the_task_runs_the_same_service(
    django_capture_on_commit_callbacks: Any,
) -> None:
    _coins_without_events()
    from ledger import tasks

    with (
        override_settings(CELERY_BROKER_URL="memory://"),
        mock.patch.object(tasks.run_ledger_job, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        job = submit_job(kind="backfill", parameters={}, requested_by=None)
        assert job.status == LedgerJob.Status.PENDING
        assert not UserActivity.objects.exists()

    delay.assert_called_once_with(job.pk)
    outcome = tasks.run_ledger_job.apply(args=delay.call_args.args).get()  # what a worker does

    job.refresh_from_db()
    assert outcome == {"job": job.pk, "status": "succeeded"}
    assert job.status == LedgerJob.Status.SUCCEEDED
    assert job.result["events"] == 3
    assert tasks.run_ledger_job.apply(args=(job.pk,)).get()["status"] == "succeeded"
    assert UserActivity.objects.count() == 3  # a redelivered task runs nothing twice


def test_anonymize_on_celery_passes_the_user_only_in_the_message(
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = UserFactory.create(username="queued_erasure")
    transaction_for(user, 5)
    from ledger import tasks

    with (
        override_settings(CELERY_BROKER_URL="memory://"),
        mock.patch.object(tasks.run_ledger_job, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        job = submit_job(kind="anonymize", parameters={"user_id": user.pk}, requested_by=user)

    delay.assert_called_once_with(job.pk, user_id=user.pk)
    assert set(job.parameters) == {"erased_subject", "requested_by"}
    assert job.requested_by is None  # a self-requested erasure does not point back at the person
    assert not ErasedSubject.objects.exists()  # nothing is erased until the worker runs it
    tasks.run_ledger_job.apply(args=delay.call_args.args, kwargs=delay.call_args.kwargs).get()
    job.refresh_from_db()
    assert job.status == LedgerJob.Status.SUCCEEDED
    assert str(ErasedSubject.objects.get().public_id) == job.parameters["erased_subject"]
    assert not UserActivity.objects.filter(user=user).exists()


def test_export_job_writes_its_document_under_the_export_dir(tmp_path: Path) -> None:
    user = UserFactory.create(username="exported")
    transaction_for(user, 5)
    transaction_for(user, -2)

    with override_settings(LEDGER_EXPORT_DIR=tmp_path):
        job = submit_job(kind="export", parameters={"user_id": user.pk}, requested_by=None)

    assert job.status == LedgerJob.Status.SUCCEEDED
    assert job.result["events"] == 2
    document = json.loads((tmp_path / job.result["file"]).read_text())
    assert [e["amount"] for e in document["events"]] == [5, 2]
    assert [p.name for p in tmp_path.iterdir()] == [job.result["file"]]  # no partial file left


def test_nightly_reconcile_task_fixes_and_is_recorded() -> None:
    from ledger import tasks
    from ledger.models import UserProfileStats

    user = UserFactory.create()
    transaction_for(user, 9)
    UserProfileStats.objects.filter(user=user).update(total_earned=1)

    outcome = tasks.nightly_reconcile.apply().get()

    job = LedgerJob.objects.get(pk=outcome["job"])
    assert (job.kind, job.status, job.parameters) == (
        "reconcile",
        "succeeded",
        {"user_ids": None, "fix": True},
    )
    assert job.result["fixed_users"] == 1
    assert "username" not in json.dumps(job.result)
    assert UserProfileStats.objects.get(user=user).total_earned == 9


def test_beat_schedules_the_nightly_reconcile_at_three_utc() -> None:
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["ledger-nightly-reconcile"]
    assert entry["task"] == "ledger.nightly_reconcile"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({3}, {0})
    assert settings.CELERY_TIMEZONE == "UTC"


def test_backfill_historical_tournaments() -> None:
    """Seed 8.3: 10 tournaments completed before the ledger -> 10 TOURNAMENT_COMPLETED events."""
    from io import StringIO

    from django.core.management import call_command

    def build() -> None:
        for n in range(10):
            winner = RegistrationFactory.create(
                confirmed_at=at(n), checked_in=True, checked_in_at=at(n + 1)
            )
            TournamentResult.objects.create(
                tournament=winner.tournament, winner=winner, created_at=at(n + 2)
            )

    history_without_events(build)
    out = StringIO()

    call_command("backfill_user_activity", stdout=out)

    completed = UserActivity.objects.filter(event_type="tournament_completed")
    assert completed.count() == 10
    assert UserActivity.objects.filter(event_type="tournament_won").count() == 10
    assert sorted(completed.values_list("timestamp", flat=True)) == [at(n + 2) for n in range(10)]
    assert "tournaments.result: 10 rows, recorded 20 events" in out.getvalue()
    assert "Backfill recorded 40 events" in out.getvalue()  # + registered and joined
    assert LedgerJob.objects.get().result["events"] == 40
