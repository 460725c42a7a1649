"""Archive: move whole months of old events from the hot table to compressed files (I9).

A month is archived in one transaction: its events are written to a file (in (timestamp, id)
order, every column), their once-keys kept in ``ArchivedEvent`` (so nothing records them again,
I2), their fold added to each projection's baselines (so every projection is still baseline +
hot events, I1), their matches to the streak and recent-results baselines (decision 0027), the
file listed with its checksum, and the rows removed from the hot table by the recorder. The
manifest is rewritten from the database after each month. A killed run leaves
at most an unlisted file, which the next run overwrites under the same name; what committed is
done, so running again resumes (the months still hot) and a finished run run again does nothing.

Months are taken newest first: a reversal is never older than the event it cancels, so an event
leaves the hot table after (or with) every reversal of it. Months whose events are cancelled by
reversals that stay hot are not archived: the horizon stops before the earliest of them
(docs/decisions/0017).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, Max, Min, OuterRef
from django.db.models.functions import TruncMonth
from django.utils import timezone

from ledger.archive import files
from ledger.archive.baselines import BaselineFold, archived_event
from ledger.archive.form import fold_archived_form
from ledger.archive.storage import ArchiveStorage, archive_storage
from ledger.drafts import NewEvent
from ledger.exceptions import InvalidJobError
from ledger.models import ArchivedEvent, ArchivedFile, UserActivity
from ledger.operations.progress import ProgressCallback
from ledger.recorders import recorder

logger = logging.getLogger("ledger.operations")

CHUNK = 2000


@dataclass
class ArchiveReport:
    before: date
    horizon: datetime | None = None
    """Events before this are archived (after the run)."""
    held_back_from: date | None = None
    """Set when months before ``before`` stayed hot: the first month a later reversal reaches."""
    months: dict[str, int] = field(default_factory=dict)
    """What this run archived: rows by file name."""

    @property
    def total_events(self) -> int:
        return sum(self.months.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "before": self.before.isoformat(),
            "horizon": self.horizon.isoformat() if self.horizon else None,
            "held_back_from": self.held_back_from.isoformat() if self.held_back_from else None,
            "files": self.months,
            "events": self.total_events,
        }


def parse_before(value: Any) -> date:
    """A ``--before`` date: ``YYYY-MM-DD``, not in the future (UTC); ``InvalidJobError`` if not."""
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            raise InvalidJobError(
                f"before must be a date as YYYY-MM-DD, not {str(value)[:40]!r}."
            ) from None
    today = timezone.now().date()
    if value > today:
        raise InvalidJobError(
            f"before must not be in the future: {value.isoformat()} is after today "
            f"({today.isoformat()}, UTC)."
        )
    return value


def scheduled_before(*, after_days: int) -> date:
    """What the schedule archives before: whole months older than ``after_days``."""
    return (timezone.now() - timedelta(days=after_days)).date()


def archive_activity(
    *,
    before: date,
    progress: ProgressCallback | None = None,
    storage: ArchiveStorage | None = None,
) -> ArchiveReport:
    """Archive every whole month that ends on or before ``before`` and still has hot events."""
    storage = storage or archive_storage()
    report = ArchiveReport(before=parse_before(before))
    cutoff = files.month_start(report.before)
    kept = _clip(cutoff)
    if kept < cutoff:
        report.held_back_from = kept.date()
        logger.warning(
            "archive: months from %s stay hot: later reversals cancel their events", kept.date()
        )
    months = _hot_months(kept)
    _sweep(storage)
    for done, month in enumerate(months, 1):
        name, rows = _archive_month(month, storage)  # ("", 0): emptied meanwhile
        if rows:
            report.months[name] = rows
        files.write_manifest(storage)
        if progress is not None:
            progress(done, len(months))
    if progress is not None:
        progress(len(months), len(months))
    files.write_manifest(storage)
    report.horizon = files.horizon()
    return report


def _clip(cutoff: datetime) -> datetime:
    """The latest month start at or before ``cutoff`` such that no event before it is cancelled
    by a reversal after it, nor the other way round: the two sides of a reversal leave together."""
    while True:
        reversals = UserActivity.objects.filter(reverses__isnull=False)
        later = reversals.filter(timestamp__gte=cutoff, reverses__timestamp__lt=cutoff).aggregate(
            at=Min("reverses__timestamp")
        )["at"]
        earlier = reversals.filter(timestamp__lt=cutoff, reverses__timestamp__gte=cutoff).aggregate(
            at=Min("timestamp")
        )["at"]
        reached = [at for at in (later, earlier) if at is not None]
        if not reached:
            return cutoff
        cutoff = files.month_start(min(reached))


def _hot_months(cutoff: datetime) -> list[date]:
    """The months before ``cutoff`` that have hot events, newest first."""
    months = (
        UserActivity.objects.filter(timestamp__lt=cutoff)
        .annotate(month=TruncMonth("timestamp"))
        .order_by()
        .values_list("month", flat=True)
        .distinct()
    )
    return sorted({_as_date(month) for month in months}, reverse=True)


def _as_date(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _archive_month(month: date, storage: ArchiveStorage) -> tuple[str, int]:
    """Archive the month's hot events as a new part; return its file name and rows.

    The once-keys are copied first, in one statement (one snapshot): the file, the baselines and
    the removal then all take exactly those events, whatever is recorded into the month
    meanwhile."""
    start = files.month_start(month)
    end = files.month_after(start)
    with transaction.atomic():
        keys = recorder().keep_archived_keys(start=start, end=end)
        if not keys:
            return "", 0
        part = (ArchivedFile.objects.filter(month=month).aggregate(n=Max("part"))["n"] or 0) + 1
        name = files.file_name(month, part, 1)
        fold = BaselineFold()
        rows, sha256 = files.write_rows(storage, name, _moved(start, end, fold))
        fold.save()
        fold_archived_form(month=month, start=start, end=end)
        ArchivedFile.objects.create(month=month, part=part, name=name, rows=rows, sha256=sha256)
        removed = recorder().remove_archived(start=start, end=end)
        if not keys == rows == removed:
            raise RuntimeError(
                f"archive of {month:%Y-%m}: kept {keys} keys, wrote {rows} events, "
                f"removed {removed}"
            )
    logger.info("archive: %s, %d events", name, rows)
    return name, rows


def _moved(start: datetime, end: datetime, fold: BaselineFold) -> Iterator[dict[str, Any]]:
    """The month's archived events in (timestamp, id) order, for the file; on the way, chunk
    by chunk, their fold into ``fold``."""
    archived = ArchivedEvent.objects.filter(
        timestamp__gte=start, timestamp__lt=end, pk=OuterRef("pk")
    )
    events = (
        UserActivity.objects.filter(timestamp__gte=start, timestamp__lt=end)
        .filter(Exists(archived))
        .order_by("timestamp", "id")
        .values(*files.COLUMNS, "reverses__event_type")
    )
    chunk: list[NewEvent] = []
    for row in events.iterator(chunk_size=CHUNK):
        chunk.append(archived_event(row, row["reverses__event_type"]))
        yield row
        if len(chunk) >= CHUNK:
            fold.add(chunk)
            chunk = []
    fold.add(chunk)


def _sweep(storage: ArchiveStorage) -> None:
    """Delete files an erasure replaced (a lower revision of a listed month and part): what a run
    killed after the erasure's commit left. Unlisted new names are left: a run in progress may
    be about to list them, and the next run of the same month overwrites them anyway."""
    listed = {(f.month, f.part): f.revision for f in ArchivedFile.objects.all()}
    names = set(ArchivedFile.objects.values_list("name", flat=True))
    for name in storage.names():
        if name in names or not name.startswith("events-"):
            continue
        for (month, part), revision in listed.items():
            if any(name == files.file_name(month, part, r) for r in range(1, revision)):
                storage.delete(name)
                logger.info("archive: removed %s, replaced by a rewrite", name)
