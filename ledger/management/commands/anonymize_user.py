"""GDPR Article 17: erase a user from the ledger durably; the audit job keeps no name."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.exceptions import LedgerError
from ledger.management.common import user_named
from ledger.operations.jobs import run_job_now


class Command(BaseCommand):
    help = (
        "Re-point USERNAME's events to an anonymous erased subject, scrub their name from every "
        "event that mentions them, delete their stats. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = user_named(options["username"])
        try:
            job, subject = run_job_now(kind="anonymize", parameters={"user_id": user.pk})
        except LedgerError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Erased: {job.result['events']} events now belong to erased subject "
                f"{subject.public_id} (job {job.pk})."
            )
        )
