"""7. Archive speed: events moved to files per second, against a raw floor in the same run.

The run archives the oldest months holding about half the events, inside a transaction that is
rolled back afterwards, so the dataset stays as the other scenarios need it. The floor is the
least any archive must do with the same rows: ``COPY (SELECT … ORDER BY timestamp, id) TO
STDOUT`` streamed through gzip (the same level) into a file. Ours also keeps each event's
once-key, folds the baselines, and removes the rows from the table.
"""

from __future__ import annotations

import gzip
import tempfile
from datetime import date, datetime
from pathlib import Path

from bench.common import Mode, Result, raw_connection, timed
from bench.dataset import DatasetSize

FLOOR = (
    "COPY (SELECT id, user_id, erased_subject_id, event_type, timestamp, created_at, metadata, "
    "source_model, source_id, occurrence, amount, reverses_id FROM ledger_useractivity "
    "WHERE timestamp < %s ORDER BY timestamp, id) TO STDOUT"
)


class _RolledBack(Exception):
    """Raised to roll the archive run back: the dataset is shared with other scenarios."""


def _cutoff() -> tuple[date, int]:
    """The first day after the oldest months that hold at least half the events (the quick
    dataset's one month: all of them), and how many events that is."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT date_trunc('month', timestamp AT TIME ZONE 'UTC')::date, count(*) "
            "FROM ledger_useractivity GROUP BY 1 ORDER BY 1"
        )
        months = cursor.fetchall()
    total = sum(n for _, n in months)
    taken, last = 0, months[-1][0]
    for month, n in months:
        taken += n
        if taken >= total / 2:
            last = month
            break
    following = date(last.year + last.month // 12, last.month % 12 + 1, 1)
    return following, taken


def _ours(before: date, directory: Path) -> tuple[float, int]:
    from django.db import transaction

    from ledger.archive.storage import LocalArchiveStorage
    from ledger.operations.archive import archive_activity

    moved = 0

    def archive() -> None:
        nonlocal moved
        report = archive_activity(before=before, storage=LocalArchiveStorage(directory))
        moved = report.total_events

    seconds = 0.0
    try:
        with transaction.atomic():
            seconds, _ = timed(archive)
            raise _RolledBack
    except _RolledBack:
        pass
    return seconds, moved


def _floor(before: date, directory: Path) -> float:
    cutoff = datetime(before.year, before.month, before.day).isoformat() + "+00:00"
    with raw_connection(prepare_threshold=None) as conn:

        def copy() -> None:
            with (
                conn.cursor() as cursor,
                cursor.copy(FLOOR.replace("%s", f"'{cutoff}'")) as rows,
                gzip.open(directory / "floor.tsv.gz", "wb", compresslevel=6) as out,
            ):
                for block in rows:
                    out.write(block)

        return timed(copy)[0]


def run(*, mode: Mode, size: DatasetSize) -> Result:
    result = Result("archive")
    before, expected = _cutoff()
    reps = 3 if mode.name == "quick" else 2
    ours, floor = [], []
    moved = 0
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as scratch:
        for rep in range(reps):
            directory = Path(scratch) / f"run{rep}"
            directory.mkdir()
            seconds, moved = _ours(before, directory)
            ours.append(moved / seconds)
            floor.append(expected / _floor(before, directory))
    result.figure("archive (files, once-keys, baselines, removal)", "events/s", ours)
    result.figure("raw COPY TO + gzip of the same rows", "events/s", floor)
    result.ratio(
        "archive ÷ raw COPY + gzip (events/s)",
        ours="archive (files, once-keys, baselines, removal)",
        other="raw COPY TO + gzip of the same rows",
    )
    result.notes.append(
        f"archived {moved:,} of the {expected:,} events before {before} (a month that a later "
        "correction reaches stays hot); rolled back after each run"
    )
    return result
