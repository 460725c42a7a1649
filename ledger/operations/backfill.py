"""Backfill: converge every row of every registered source, so history gets its events (I3, I7).

Rows are walked in keyset (pk) batches straight from ``source.rows()``; each batch converges in its
own transaction together with the source's checkpoint, so a killed run resumes after the last
committed batch and loses or duplicates nothing (I2). Memory is bounded by the batch size.

Where the recorder allows it (PostgreSQL), the next batch is read and translated by a reader
thread (its own connection) while this one is written: half the work is Python and half the
database, and they overlap. A row read ahead may change before its batch is written, so the write
transaction locks the batch's rows and re-reads the few whose version moved
(``Recorder.changed_since_read``): a batch always converges rows as they stand when it commits,
and a live save of one of them waits for that commit (docs/decisions/0004).
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Collection, Generator, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.db import OperationalError, connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from ledger.drafts import EventDraft, NewEvent
from ledger.models import BackfillCheckpoint
from ledger.operations.progress import ProgressCallback
from ledger.recorders import recorder
from ledger.services.convergence import plan_translations, translate_rows
from ledger.services.recording import record_activity
from ledger.sources import Source, all_sources, get_source

logger = logging.getLogger("ledger.operations")

DEFAULT_BATCH_SIZE = 2000


@dataclass
class SourceReport:
    """What one source's walk saw and recorded (or, in a dry run, would record)."""

    name: str
    rows: int = 0
    batches: int = 0
    events: Counter[str] = field(default_factory=Counter)
    resumed_after_pk: int | None = None

    @property
    def total_events(self) -> int:
        return sum(self.events.values())


@dataclass
class BackfillReport:
    dry_run: bool
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def total_events(self) -> int:
        return sum(source.total_events for source in self.sources)

    @property
    def total_rows(self) -> int:
        return sum(source.rows for source in self.sources)

    def events_by_source(self) -> dict[str, dict[str, int]]:
        """{source: {event type: n}} for the sources that have any."""
        return {s.name: dict(sorted(s.events.items())) for s in self.sources if s.events}

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "rows": self.total_rows,
            "events": self.total_events,
            "by_source": {
                s.name: {
                    "rows": s.rows,
                    "events": dict(sorted(s.events.items())),
                    "resumed_after_pk": s.resumed_after_pk,
                }
                for s in self.sources
            },
        }


def resolve_sources(names: Iterable[str] | None) -> list[Source]:
    """The named sources (all when None); an unknown name raises ``UnknownSourceError``."""
    if names is None:
        return all_sources()
    return [get_source(name) for name in dict.fromkeys(names)]


def backfill_activity(
    *,
    sources: Sequence[str] | None = None,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ProgressCallback | None = None,
    only_user_ids: Collection[int] | None = None,
    read_ahead: bool | None = None,
) -> BackfillReport:
    """Record the events the sources' rows stand for and the ledger lacks; report per source.

    ``only_user_ids`` limits what is recorded to those users' events (reconcile ``--user``); such a
    partial walk neither reads nor moves the checkpoints. ``read_ahead`` (default: where the
    recorder allows it, outside a transaction, where a second connection sees the same rows)
    reads the next batch in a thread while the current one is written.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if read_ahead is None:
        read_ahead = recorder().can_read_ahead and not connection.in_atomic_block
    selected = resolve_sources(sources)
    use_checkpoints = not dry_run and only_user_ids is None
    report = BackfillReport(dry_run=dry_run)
    total = sum(source.model._default_manager.order_by().count() for source in selected)
    done = 0

    checkpoints = [_open_checkpoint(source) if use_checkpoints else None for source in selected]
    starts: list[tuple[Source, int]] = []
    for source, checkpoint in zip(selected, checkpoints, strict=True):
        source_report = SourceReport(name=source.name)
        report.sources.append(source_report)
        last_pk = 0
        if checkpoint is not None and checkpoint.last_pk:
            last_pk = checkpoint.last_pk
            source_report.resumed_after_pk = last_pk
            done += checkpoint.rows_done
        starts.append((source, last_pk))

    walk = _read_ahead(starts, batch_size) if read_ahead else _read_in_turn(starts, batch_size)
    with contextlib.closing(walk):
        for index, batch in walk:
            source, checkpoint = selected[index], checkpoints[index]
            if batch is None:  # the source is done
                if checkpoint is not None:
                    BackfillCheckpoint.objects.filter(pk=checkpoint.pk).update(
                        finished_at=timezone.now()
                    )
                continue
            source_report = report.sources[index]
            if dry_run:
                counts = _count(_plan(source, batch.translations, only_user_ids))
            else:
                counts = _write(source, batch, checkpoint, only_user_ids)
            source_report.rows += len(batch.versions)
            source_report.batches += 1
            source_report.events.update(counts)
            done += len(batch.versions)
            if progress is not None:
                progress(done, max(total, done))
    if progress is not None:
        progress(done, done)
    return report


@dataclass
class _Batch:
    """One keyset page of a source's rows, read and translated (perhaps ahead, by the reader)."""

    last_pk: int
    versions: dict[int, str | None]
    """Every row read, by pk: its version as read (``Recorder.read_versioned``)."""
    translations: dict[int, Sequence[EventDraft]]
    """What the settled rows stand for, by pk, in pk order."""


def _read_batch(source: Source, after_pk: int, size: int) -> _Batch | None:
    """The next ``size`` rows after ``after_pk``, translated; None when the source is done."""
    rows, versions = recorder().read_versioned(
        source.rows().filter(pk__gt=after_pk).order_by("pk")[:size]
    )
    if not rows:
        return None
    return _Batch(
        last_pk=int(rows[-1].pk), versions=versions, translations=translate_rows(source, rows)
    )


_Walk = Generator[tuple[int, "_Batch | None"]]
"""(index of the source in the run, its next batch); (index, None) once the source is done."""


@dataclass
class _Read:
    """What one read found: the sources it finished on the way, and the next batch (None: the
    run's last source is done)."""

    finished: list[int]
    index: int
    batch: _Batch | None


def _read_next(starts: Sequence[tuple[Source, int]], index: int, after_pk: int, size: int) -> _Read:
    """The next batch of the run from source ``index`` after ``after_pk``, moving on to the next
    sources (from their starts) while they have none."""
    finished: list[int] = []
    while True:
        batch = _read_batch(starts[index][0], after_pk, size)
        if batch is not None or index + 1 == len(starts):
            if batch is None:
                finished.append(index)
            return _Read(finished, index, batch)
        finished.append(index)
        index += 1
        after_pk = starts[index][1]


def _steps(read: _Read) -> _Walk:
    for index in read.finished:
        yield index, None
    if read.batch is not None:
        yield read.index, read.batch


def _read_in_turn(starts: Sequence[tuple[Source, int]], size: int) -> _Walk:
    if not starts:
        return
    read = _read_next(starts, 0, starts[0][1], size)
    yield from _steps(read)
    while read.batch is not None:
        read = _read_next(starts, read.index, read.batch.last_pk, size)
        yield from _steps(read)


def _read_ahead(starts: Sequence[tuple[Source, int]], size: int) -> _Walk:
    """The walk ``_read_in_turn`` makes, each batch read by a reader thread while the caller
    writes the one before, across sources: the next source's first batch is read while the last
    one of the source before is written. The reader has its own connection, closed at the end."""
    if not starts:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="backfill-reader") as reader:
        try:
            pending = reader.submit(_read_next, starts, 0, starts[0][1], size)
            while True:
                read = pending.result()
                if read.batch is not None:  # read the next one while this one is written
                    pending = reader.submit(
                        _read_next, starts, read.index, read.batch.last_pk, size
                    )
                yield from _steps(read)
                if read.batch is None:
                    return
        finally:
            reader.submit(connections.close_all)  # runs in the reader thread, after its last read


DEADLOCK_RETRIES = 3
"""A live save that takes stats locks before a source-row lock can deadlock with a batch's share
locks; PostgreSQL aborts one of the two, and an aborted batch is simply written again."""


def _write(
    source: Source,
    batch: _Batch,
    checkpoint: BackfillCheckpoint | None,
    only: Collection[int] | None,
) -> Counter[str]:
    """Converge the batch and move the checkpoint, in one transaction; count what was recorded."""
    for attempt in range(1, DEADLOCK_RETRIES + 2):
        savepoint = connection.in_atomic_block
        try:
            with transaction.atomic():
                translations = _settle(source, batch)
                recorded = record_activity(events=_plan(source, translations, only))
                if checkpoint is not None:
                    BackfillCheckpoint.objects.filter(pk=checkpoint.pk).update(
                        last_pk=batch.last_pk,
                        rows_done=F("rows_done") + len(batch.versions),
                        updated_at=timezone.now(),
                    )
            return Counter(str(event.event_type) for event in recorded)
        except OperationalError as error:
            if savepoint or attempt > DEADLOCK_RETRIES or not _is_deadlock(error):
                raise
            logger.warning(
                "backfill of %s after pk %s hit a deadlock; writing the batch again (%d/%d)",
                source.name,
                batch.last_pk,
                attempt,
                DEADLOCK_RETRIES,
            )
    raise AssertionError("unreachable")  # pragma: no cover


def _is_deadlock(error: OperationalError) -> bool:
    return getattr(error.__cause__, "sqlstate", None) == "40P01"


def _settle(source: Source, batch: _Batch) -> dict[int, Sequence[EventDraft]]:
    """The batch's translations as its rows stand now, in the writing transaction: the rows are
    locked and those changed (or deleted) since they were read are re-read."""
    changed = recorder().changed_since_read(source.model, batch.versions)
    if not changed:
        return batch.translations
    logger.debug("backfill of %s: %d rows changed since read", source.name, len(changed))
    translations = {pk: t for pk, t in batch.translations.items() if pk not in changed}
    translations.update(translate_rows(source, source.rows().filter(pk__in=changed)))
    return dict(sorted(translations.items()))


def _plan(
    source: Source,
    translations: dict[int, Sequence[EventDraft]],
    only: Collection[int] | None,
) -> list[NewEvent]:
    plan = plan_translations(source=source, translations=translations)
    return plan if only is None else [event for event in plan if event.user_id in only]


def _count(events: Iterable[NewEvent]) -> Counter[str]:
    return Counter(str(event.event_type) for event in events)


def _open_checkpoint(source: Source) -> BackfillCheckpoint:
    """The source's unfinished checkpoint to resume from, or a fresh one after a finished run."""
    checkpoint, created = BackfillCheckpoint.objects.get_or_create(source=source.name)
    if not created and checkpoint.finished_at is not None:
        now = timezone.now()
        checkpoint.last_pk, checkpoint.rows_done = 0, 0
        checkpoint.started_at, checkpoint.updated_at, checkpoint.finished_at = now, now, None
        checkpoint.save()
    return checkpoint
