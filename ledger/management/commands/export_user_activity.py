"""GDPR Article 15: write a user's whole history and stats as one JSON document."""

from __future__ import annotations

import sys
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.exceptions import LedgerError
from ledger.management.common import user_named
from ledger.operations.jobs import run_job_now


class Command(BaseCommand):
    help = "Export USERNAME's events (reversals included) and stats as JSON, streamed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--output", metavar="FILE", help="Write here instead of stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        parameters = {"user_id": user_named(options["username"]).pk}
        try:
            if options["output"]:
                with open(options["output"], "w", encoding="utf-8") as out:
                    job, count = run_job_now(kind="export", parameters=parameters, export_to=out)
            else:
                job, count = run_job_now(
                    kind="export", parameters=parameters, export_to=cast(TextIO, self.stdout._out)
                )
        except (LedgerError, OSError) as error:
            raise CommandError(str(error)) from error
        sys.stderr.write(f"Exported {count} events (job {job.pk}).\n")
