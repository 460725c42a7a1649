"""The archive (I9): whole months move to files; every projection, reconcile, backfill, a live
save, export and erasure still agree with what was there before."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from ledger.exceptions import ArchiveCorruptedError, InvalidJobError
from ledger.models import (
    ArchivedEvent,
    ArchivedFile,
    EventType,
    LedgerJob,
    ProjectionBaseline,
    UserActivity,
)
from ledger.operations.archive import archive_activity
from ledger.operations.backfill import backfill_activity
from ledger.operations.gdpr import anonymize_user, export_user_activity
from ledger.operations.jobs import submit_job
from ledger.operations.progress import OperationStopped
from ledger.operations.reconcile import reconcile_stats
from ledger.services.stats import recompute_stats
from tests.factories import transaction_for
from tests.ledger.archive.history import (
    BEFORE,
    at,
    game_stats,
    make_history,
    old_events,
    read_file,
    stats,
)

pytestmark = pytest.mark.django_db

NAMES = ["events-2023-01.jsonl.gz", "events-2023-02.jsonl.gz", "events-2023-03.jsonl.gz"]


def _listing(directory: Path) -> dict[str, tuple[int, str]]:
    return {f.name: (f.rows, f.sha256) for f in ArchivedFile.objects.all()}


def test_archive_moves_whole_months_to_files_with_a_manifest(archive_dir: Path) -> None:
    history = make_history()
    old = old_events()
    hot_before = UserActivity.objects.count()

    report = archive_activity(before=BEFORE)

    assert old == 7  # coins 40 (Jan), -15 (Feb), 25 (Mar); the match: played and won/lost x2
    assert report.months == {NAMES[0]: 1, NAMES[1]: 5, NAMES[2]: 1}
    assert report.horizon == at(4, 1).replace(day=1, hour=0)
    assert old_events() == 0
    assert UserActivity.objects.count() == hot_before - 7
    assert ArchivedEvent.objects.count() == 7
    manifest = json.loads((archive_dir / "manifest.json").read_text())
    assert manifest["horizon"] == "2023-04-01T00:00:00+00:00"
    assert manifest["baseline_version"] == 3
    assert [(f["name"], f["rows"]) for f in manifest["files"]] == [
        (NAMES[0], 1),
        (NAMES[1], 5),
        (NAMES[2], 1),
    ]
    for entry in manifest["files"]:
        data = (archive_dir / entry["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    february = read_file(archive_dir / NAMES[1])
    assert [(r["timestamp"], r["id"]) for r in february] == sorted(
        (r["timestamp"], r["id"]) for r in february
    )
    assert {r["event_type"] for r in february} == {
        EventType.COINS_SPENT,
        EventType.MATCH_PLAYED,
        EventType.MATCH_WON,
        EventType.MATCH_LOST,
    }
    every_column = {field.column for field in UserActivity._meta.concrete_fields}
    assert set(february[0]) == every_column
    assert history.erin.pk in {r["user_id"] for r in february}


def test_after_the_archive_stats_recompute_reconcile_and_backfill_agree(archive_dir: Path) -> None:
    history = make_history()
    before = stats(history.erin, history.rival)
    games_before = game_stats()
    assert len(games_before) == 2  # Erin's and her rival's valorant rows

    archive_activity(before=BEFORE)

    assert stats(history.erin, history.rival) == before
    for user in (history.erin, history.rival):
        assert recompute_stats(user) == before[user.pk]
    lifetime = ProjectionBaseline.objects.get(
        projection="ledger.userprofilestats", user_id=history.erin.pk
    )
    assert (lifetime.counters["total_earned"], lifetime.counters["total_spent"]) == (40, 15)
    game = ProjectionBaseline.objects.get(
        projection="ledger.usergamestats", user_id=history.erin.pk
    )
    assert (game.key, game.counters["matches_won"]) == (f'[{history.erin.pk},"valorant"]', 1)
    assert game_stats() == games_before
    report = reconcile_stats()
    assert not report.found_problems, report.as_dict()
    events = UserActivity.objects.count()
    assert backfill_activity().total_events == 0
    assert UserActivity.objects.count() == events
    assert stats(history.erin, history.rival) == before
    assert game_stats() == games_before


def test_a_live_save_of_an_archived_source_row_records_nothing_again(archive_dir: Path) -> None:
    history = make_history()
    archive_activity(before=BEFORE)
    events, before = UserActivity.objects.count(), stats(history.erin)

    history.january_coins.save()  # unchanged
    history.match.save()
    history.january_coins.amount = 30  # a correction reaching before the horizon
    history.january_coins.save()

    assert UserActivity.objects.count() == events
    assert stats(history.erin) == before
    assert not reconcile_stats().found_problems


def test_running_it_twice_changes_nothing(archive_dir: Path) -> None:
    make_history()
    archive_activity(before=BEFORE)
    listing = _listing(archive_dir)
    manifest = (archive_dir / "manifest.json").read_text()

    again = archive_activity(before=BEFORE)

    assert again.months == {}
    assert _listing(archive_dir) == listing
    assert (archive_dir / "manifest.json").read_text() == manifest
    assert sorted(p.name for p in archive_dir.iterdir()) == sorted([*NAMES, "manifest.json"])


def test_an_interrupted_run_resumes_and_ends_as_one_run_would(archive_dir: Path) -> None:
    history = make_history()
    before = stats(history.erin, history.rival)

    def stop_after_first(done: int, total: int | None) -> None:
        if done == 1 and total == 3:
            raise OperationStopped("lost")

    with pytest.raises(OperationStopped):
        archive_activity(before=BEFORE, progress=stop_after_first)
    assert list(ArchivedFile.objects.values_list("name", flat=True)) == [NAMES[2]]
    assert old_events() == 6

    report = archive_activity(before=BEFORE)

    assert sorted(report.months) == NAMES[:2]
    assert sorted(_listing(archive_dir)) == NAMES
    assert old_events() == 0
    assert stats(history.erin, history.rival) == before
    assert not reconcile_stats().found_problems
    for archived in ArchivedFile.objects.all():
        data = (archive_dir / archived.name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == archived.sha256


def test_a_month_whose_events_a_later_correction_cancels_stays_hot(archive_dir: Path) -> None:
    history = make_history()
    history.january_coins.amount = 30  # corrected now: a reversal dated today
    history.january_coins.save()
    before = stats(history.erin)

    report = archive_activity(before=BEFORE)

    assert report.months == {}
    assert report.held_back_from == date(2023, 1, 1)
    assert old_events() == 8  # the corrected amount is dated as the transaction
    assert stats(history.erin) == before


def test_export_includes_the_archived_events(archive_dir: Path) -> None:
    history = make_history()
    expected = list(
        UserActivity.objects.filter(user=history.erin)
        .order_by("timestamp", "id")
        .values_list("id", "event_type")
    )
    archive_activity(before=BEFORE)

    out = StringIO()
    count = export_user_activity(user=history.erin, out=out)

    events = json.loads(out.getvalue())["events"]
    assert count == len(events) == len(expected) == 6  # four archived, two hot
    assert [(e["id"], e["event_type"]) for e in events] == expected


def test_anonymize_rewrites_the_archive_files_without_the_user(
    archive_dir: Path, django_capture_on_commit_callbacks: Any
) -> None:
    history = make_history()
    archive_activity(before=BEFORE)
    old = _listing(archive_dir)

    assert _head_to_head_baselines_naming(history.erin.pk) == 2  # hers, and the rival's

    with django_capture_on_commit_callbacks(execute=True):  # the replaced files go on commit
        subject = anonymize_user(user=history.erin)

    assert _head_to_head_baselines_naming(history.erin.pk) == 0

    new = _listing(archive_dir)
    assert sorted(new) == [
        "events-2023-01.r2.jsonl.gz",
        "events-2023-02.r2.jsonl.gz",
        NAMES[2],  # the rival's coins: nothing of Erin's in it
    ]
    assert new[NAMES[2]] == old[NAMES[2]]
    manifest = json.loads((archive_dir / "manifest.json").read_text())
    on_disk = sorted(p.name for p in archive_dir.iterdir())
    assert on_disk == sorted([*new, "manifest.json"])
    for entry in manifest["files"]:
        assert new[entry["name"]] == (entry["rows"], entry["sha256"])
        data = (archive_dir / entry["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        rows = read_file(archive_dir / entry["name"])
        text = json.dumps(rows)
        for trace in ("erin_archive", "erin@archive.test", "Erin Of Old"):
            assert trace not in text
        assert all(row["user_id"] != history.erin.pk for row in rows)
        assert not _people_of(rows, history.erin.pk)
    erased = [
        row
        for name in new
        for row in read_file(archive_dir / name)
        if row["erased_subject_id"] == subject.pk
    ]
    assert len(erased) == 4  # January's coins, February's purchase, her match played and won
    assert not ProjectionBaseline.objects.filter(user_id=history.erin.pk).exists()
    assert not ArchivedEvent.objects.filter(user_id=history.erin.pk).exists()
    assert not reconcile_stats().found_problems
    assert backfill_activity().total_events == 0


def _head_to_head_baselines_naming(user_id: int) -> int:
    rows = ProjectionBaseline.objects.filter(projection="ledger.headtohead")
    return sum(user_id in json.loads(row.key) for row in rows)


def _people_of(value: Any, user_id: int) -> list[Any]:
    if isinstance(value, dict):
        found = [value] if value.get("user_id") == user_id else []
        return found + [p for item in value.values() for p in _people_of(item, user_id)]
    if isinstance(value, list):
        return [p for item in value for p in _people_of(item, user_id)]
    return []


def test_a_corrupted_file_is_detected_and_never_read(archive_dir: Path) -> None:
    history = make_history()
    archive_activity(before=BEFORE)
    path = archive_dir / NAMES[1]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    with pytest.raises(ArchiveCorruptedError, match=r"events-2023-02\.jsonl\.gz"):
        export_user_activity(user=history.erin, out=StringIO())
    with pytest.raises(ArchiveCorruptedError, match="checksum"):
        anonymize_user(user=history.erin)
    assert UserActivity.objects.filter(user=history.erin).exists()  # nothing was erased

    path.unlink()
    with pytest.raises(ArchiveCorruptedError, match="missing"):
        export_user_activity(user=history.erin, out=StringIO())


def test_an_archive_job_is_audited(archive_dir: Path) -> None:
    make_history()

    job = submit_job(kind="archive", parameters={"before": "2023-04-01"}, requested_by=None)

    assert job.status == LedgerJob.Status.SUCCEEDED
    assert job.parameters == {"before": "2023-04-01"}
    assert job.result["events"] == 7
    assert job.result["horizon"] == "2023-04-01T00:00:00+00:00"
    assert (job.progress_done, job.progress_total) == (3, 3)


@pytest.mark.parametrize(
    ("before", "message"),
    [
        ("2023-13-01", "YYYY-MM-DD"),
        ("yesterday", "YYYY-MM-DD"),
        ("2999-01-01", "in the future"),
    ],
)
def test_a_malformed_or_future_date_is_a_clear_error(
    archive_dir: Path, before: str, message: str
) -> None:
    with pytest.raises(InvalidJobError, match=message):
        submit_job(kind="archive", parameters={"before": before}, requested_by=None)
    with pytest.raises(CommandError, match=message):
        call_command("archive_activity", "--before", before, stdout=StringIO())
    assert not LedgerJob.objects.exists()


def test_the_command_archives_and_says_what(archive_dir: Path) -> None:
    make_history()
    out = StringIO()

    call_command("archive_activity", "--before", "2023-04-01", stdout=out)

    assert "events-2023-02.jsonl.gz: 5 events" in out.getvalue()
    assert "Archived 7 events in 3 files; events before 2023-04-01 are archived" in out.getvalue()


def test_events_recorded_into_an_archived_month_go_to_a_second_part(archive_dir: Path) -> None:
    history = make_history()
    archive_activity(before=BEFORE)
    late = transaction_for(history.erin, 9, created_at=at(2, 20))  # recorded after the archive
    assert old_events() == 1
    before = stats(history.erin)

    report = archive_activity(before=BEFORE)

    assert report.months == {"events-2023-02.part2.jsonl.gz": 1}
    assert old_events() == 0
    assert stats(history.erin) == before
    assert not reconcile_stats().found_problems
    [row] = read_file(archive_dir / "events-2023-02.part2.jsonl.gz")
    assert (row["source_id"], row["amount"]) == (late.pk, 9)
    out = StringIO()
    assert export_user_activity(user=history.erin, out=out) == 7
    assert late.pk in {e["source_id"] for e in json.loads(out.getvalue())["events"]}
