"""Record the events the platform's existing rows stand for (seed section 9, phase 4)."""

from __future__ import annotations

import time
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandParser

from ledger.management.common import run_with_progress
from ledger.operations.backfill import BackfillReport


class Command(BaseCommand):
    help = (
        "Walk every registered source (or those given with --source) and record the missing "
        "events with their historical timestamps. Idempotent and resumable."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--source",
            action="append",
            dest="sources",
            metavar="NAME",
            help="Only this source (repeatable), e.g. tournaments.match.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would be recorded; write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        parameters = {"sources": options["sources"], "dry_run": options["dry_run"]}
        job, report = run_with_progress(
            kind="backfill", parameters=parameters, stream=cast(TextIO, self.stdout._out)
        )
        self._summary(report, time.monotonic() - started, job.pk)

    def _summary(self, report: BackfillReport, elapsed: float, job_id: int) -> None:
        verb = "would record" if report.dry_run else "recorded"
        for source in report.sources:
            resumed = (
                f" (resumed after pk {source.resumed_after_pk})" if source.resumed_after_pk else ""
            )
            self.stdout.write(
                f"{source.name}: {source.rows} rows, {verb} {source.total_events} events{resumed}"
            )
            for event_type, count in sorted(source.events.items()):
                self.stdout.write(f"  {event_type}: {count}")
        rate = report.total_events / elapsed if elapsed > 0 else 0.0
        self.stdout.write(
            self.style.SUCCESS(
                f"Backfill{' (dry run)' if report.dry_run else ''} {verb} "
                f"{report.total_events} events from {report.total_rows} rows in {elapsed:.1f}s "
                f"({rate:,.0f} events/s); job {job_id}."
            )
        )
