"""Backfill: converge every row of every registered source, so history gets its events (I3, I7).

Rows are walked in keyset (pk) batches straight from ``source.rows()``; each batch converges in its
own transaction together with the source's checkpoint, so a killed run resumes after the last
committed batch and loses or duplicates nothing (I2). Memory is bounded by the batch size.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from ledger.models import BackfillCheckpoint
from ledger.operations.progress import ProgressCallback
from ledger.services.convergence import converge_rows, plan_convergence
from ledger.services.recording import record_activity
from ledger.sources import Source, all_sources, get_source

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
) -> BackfillReport:
    """Record the events the sources' rows stand for and the ledger lacks; report per source.

    ``only_user_ids`` limits what is recorded to those users' events (reconcile ``--user``); such a
    partial walk neither reads nor moves the checkpoints.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    selected = resolve_sources(sources)
    use_checkpoints = not dry_run and only_user_ids is None
    report = BackfillReport(dry_run=dry_run)
    total = sum(source.model._default_manager.order_by().count() for source in selected)
    done = 0

    for source in selected:
        source_report = SourceReport(name=source.name)
        report.sources.append(source_report)
        checkpoint = _open_checkpoint(source) if use_checkpoints else None
        last_pk = 0
        if checkpoint is not None and checkpoint.last_pk:
            last_pk = checkpoint.last_pk
            source_report.resumed_after_pk = last_pk
            done += checkpoint.rows_done
        while True:
            batch = list(source.rows().filter(pk__gt=last_pk).order_by("pk")[:batch_size])
            if not batch:
                break
            last_pk = int(batch[-1].pk)
            if dry_run:
                counts = _converge_batch(source, batch, dry_run=True, only=only_user_ids)
            else:
                with transaction.atomic():
                    counts = _converge_batch(source, batch, dry_run=False, only=only_user_ids)
                    if checkpoint is not None:
                        BackfillCheckpoint.objects.filter(pk=checkpoint.pk).update(
                            last_pk=last_pk,
                            rows_done=F("rows_done") + len(batch),
                            updated_at=timezone.now(),
                        )
            source_report.rows += len(batch)
            source_report.batches += 1
            source_report.events.update(counts)
            done += len(batch)
            if progress is not None:
                progress(done, max(total, done))
        if checkpoint is not None:
            BackfillCheckpoint.objects.filter(pk=checkpoint.pk).update(finished_at=timezone.now())
    if progress is not None:
        progress(done, done)
    return report


def _open_checkpoint(source: Source) -> BackfillCheckpoint:
    """The source's unfinished checkpoint to resume from, or a fresh one after a finished run."""
    checkpoint, created = BackfillCheckpoint.objects.get_or_create(source=source.name)
    if not created and checkpoint.finished_at is not None:
        now = timezone.now()
        checkpoint.last_pk, checkpoint.rows_done = 0, 0
        checkpoint.started_at, checkpoint.updated_at, checkpoint.finished_at = now, now, None
        checkpoint.save()
    return checkpoint


def _converge_batch(
    source: Source,
    batch: Sequence[models.Model],
    *,
    dry_run: bool,
    only: Collection[int] | None,
) -> Counter[str]:
    """Converge one batch; count the events recorded (or planned, in a dry run) by type."""
    if only is None:
        result = converge_rows(source=source, rows=batch, dry_run=dry_run)
        events = result.planned if dry_run else result.recorded
        return Counter(str(event.event_type) for event in events)
    plan = [event for event in plan_convergence(source=source, rows=batch) if event.user_id in only]
    if dry_run:
        return Counter(str(event.event_type) for event in plan)
    return Counter(str(event.event_type) for event in record_activity(events=plan))
