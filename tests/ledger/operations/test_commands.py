"""Commands: thin over jobs, progress as log lines off a terminal and a bar on one, summaries."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ledger.models import ErasedSubject, LedgerJob, UserActivity
from ledger.operations import progress as progress_module
from ledger.operations.progress import console_progress
from tests.factories import UserFactory, transaction_for
from tests.ledger.operations.history import build_history, history_without_events

pytestmark = pytest.mark.django_db


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_off_a_terminal_is_periodic_log_lines(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress_module, "LOG_EVERY_SECONDS", 0.0)
    with (
        caplog.at_level(logging.INFO, logger="ledger.operations"),
        console_progress(description="backfill", stream=io.StringIO()) as progress,
    ):
        progress(50, 200)
        progress(200, 200)
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("backfill: 50/200 rows (25%), ")
    assert "rows/s, about " in lines[0]
    assert lines[1].startswith("backfill: 200/200 rows (100%)")


def test_progress_on_a_terminal_is_a_bar_with_rate_and_time_left() -> None:
    screen = Terminal()
    with console_progress(description="backfill", stream=screen) as progress:
        progress(100, 400)
        progress(400, 400)
    shown = screen.getvalue()
    assert "backfill" in shown
    assert "400/400" in shown
    assert "left" in shown


def test_backfill_command_summarises_per_source_and_records_a_job() -> None:
    history_without_events(build_history)
    out = io.StringIO()

    call_command("backfill_user_activity", "--source", "teams.membership", stdout=out)

    text = out.getvalue()
    assert "teams.membership: 6 rows, recorded 7 events" in text
    assert "  team_joined: 6" in text
    assert "  team_left: 1" in text
    assert "Backfill recorded 7 events from 6 rows" in text
    job = LedgerJob.objects.get()
    assert job.parameters == {"sources": ["teams.membership"], "dry_run": False}
    assert job.status == "succeeded"


def test_backfill_command_dry_run_writes_no_events() -> None:
    history_without_events(build_history)
    out = io.StringIO()

    call_command("backfill_user_activity", "--dry-run", stdout=out)

    assert "Backfill (dry run) would record 95 events" in out.getvalue()
    assert not UserActivity.objects.exists()


def test_export_command_streams_to_stdout() -> None:
    user = UserFactory.create(username="stdout_export")
    transaction_for(user, 3)
    out = io.StringIO()

    call_command("export_user_activity", "stdout_export", stdout=out, stderr=io.StringIO())

    document = json.loads(out.getvalue())
    assert [e["event_type"] for e in document["events"]] == ["coins_earned"]


def test_anonymize_command_erases_and_reports_without_the_name() -> None:
    user = UserFactory.create(username="to_forget")
    transaction_for(user, 3)
    out = io.StringIO()

    call_command("anonymize_user", "to_forget", stdout=out)

    subject = ErasedSubject.objects.get()
    assert f"1 events now belong to erased subject {subject.public_id}" in out.getvalue()
    assert "to_forget" not in out.getvalue()
    with pytest.raises(CommandError, match="Unknown username"):
        call_command("anonymize_user", "nobody_by_that_name")


def test_reconcile_command_is_clean_with_exit_zero() -> None:
    user = UserFactory.create()
    transaction_for(user, 3)
    out = io.StringIO()

    call_command("reconcile_user_stats", stdout=out, stderr=io.StringIO())  # no SystemExit

    assert "0 drifted, 0 missing events" in out.getvalue()
