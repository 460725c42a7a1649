"""Move old events to the archive (seed section 3.2; docs/operations.md, "Archive")."""

from __future__ import annotations

from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandParser

from ledger.management.common import run_with_progress
from ledger.operations.archive import ArchiveReport


class Command(BaseCommand):
    help = (
        "Move the events of every whole month before DATE out of the events table into "
        "compressed files under LEDGER_ARCHIVE_DIR, with a manifest and checksums. Resumable; "
        "running it again does nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--before",
            required=True,
            metavar="DATE",
            help="YYYY-MM-DD, not in the future: months that end on or before it are archived.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        job, report = run_with_progress(
            kind="archive",
            parameters={"before": options["before"]},
            stream=cast(TextIO, self.stdout._out),
        )
        self._summary(cast(ArchiveReport, report), job.pk)

    def _summary(self, report: ArchiveReport, job_id: int) -> None:
        for name, rows in sorted(report.months.items()):
            self.stdout.write(f"{name}: {rows} events")
        if report.held_back_from is not None:
            self.stdout.write(
                self.style.WARNING(
                    f"Months from {report.held_back_from:%Y-%m} stay in the events table: later "
                    "corrections (reversals) cancel some of their events."
                )
            )
        horizon = report.horizon.date().isoformat() if report.horizon else "none"
        self.stdout.write(
            self.style.SUCCESS(
                f"Archived {report.total_events} events in {len(report.months)} files; events "
                f"before {horizon} are archived; job {job_id}."
            )
        )
