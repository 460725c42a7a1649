"""An archive run SIGKILLed after some months committed is taken again and ends as one run would.

A child process runs the archive job (as ``manage.py archive_activity`` does) and is killed with
SIGKILL by its own checkpoint once two of six months have committed: no ``finally`` runs, the
job stays RUNNING with a lease nobody renews. Once the lease has expired, the sweep takes the job
again; it archives the four months left and ends SUCCEEDED with every event in exactly one file.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from ledger.models import ArchivedFile, LedgerJob, UserActivity
from ledger.operations.jobs import requeue_stale_jobs
from ledger.operations.reconcile import reconcile_stats
from tests.factories import UserFactory, transaction_for
from tests.ledger.archive.history import read_file, stats
from tests.support import processes, services

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]

LEASE = 1.0
CHILD = """
import os, signal, django
django.setup()
from ledger.operations.jobs import run_job_now

def checkpoint(done, total):
    if done == 2:
        os.kill(os.getpid(), signal.SIGKILL)

run_job_now(kind="archive", parameters={"before": "2023-07-01"}, progress=checkpoint)
"""


def test_a_killed_archive_job_is_taken_again_and_finishes(tmp_path: Path) -> None:
    players = [UserFactory.create(username=f"sigkill_archive_{n}") for n in range(3)]
    for month in range(1, 7):
        for n, player in enumerate(players):
            transaction_for(player, 10 * month + n, created_at=datetime(2023, month, 3, tzinfo=UTC))
    transaction_for(players[0], 5)  # hot
    expected = {
        row[0]: row
        for row in UserActivity.objects.filter(
            timestamp__lt=datetime(2023, 7, 1, tzinfo=UTC)
        ).values_list("id", "user_id", "event_type", "amount")
    }
    before = stats(*players)
    directory = tmp_path / "archive"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_", "LOG"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=services.postgres_url(settings.DATABASES["default"]),
        LEDGER_ARCHIVE_DIR=str(directory),
        LEDGER_JOB_LEASE_SECONDS=str(LEASE),
        LOG_FORMAT="plain",
    )

    child = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=processes.ROOT, env=env, capture_output=True, timeout=60
    )

    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    job = LedgerJob.objects.get()
    # Killed by the caller's callback, before the second month's checkpoint reached the row.
    assert (job.kind, job.status, job.progress_done) == ("archive", "running", 1)
    assert sorted(ArchivedFile.objects.values_list("name", flat=True)) == [
        "events-2023-05.jsonl.gz",
        "events-2023-06.jsonl.gz",
    ]
    with override_settings(LEDGER_ARCHIVE_DIR=directory, LEDGER_JOB_LEASE_SECONDS=LEASE):
        assert processes.wait_until(requeue_stale_jobs, "the sweep to take the job", timeout=20)

    job.refresh_from_db()
    assert (job.status, job.attempts) == ("succeeded", 2)
    assert "LeaseExpired" in job.attempt_errors[0]["error"]
    assert job.result["events"] == 12  # what the second attempt moved: January to April
    listed = list(ArchivedFile.objects.order_by("month"))
    assert [f.name for f in listed] == [f"events-2023-0{m}.jsonl.gz" for m in range(1, 7)]
    archived: dict[int, Any] = {}
    for archived_file in listed:
        data = (directory / archived_file.name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == archived_file.sha256
        for row in read_file(directory / archived_file.name):
            assert row["id"] not in archived
            archived[row["id"]] = (row["id"], row["user_id"], row["event_type"], row["amount"])
    assert archived == expected
    assert not UserActivity.objects.filter(id__in=list(expected)).exists()
    assert stats(*players) == before
    assert not reconcile_stats().found_problems
