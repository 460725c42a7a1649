"""GDPR Article 17: erase a user from the ledger durably; the audit job keeps no name."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.exceptions import LedgerError
from ledger.operations.jobs import run_job_now


class Command(BaseCommand):
    help = (
        "Re-point USERNAME's events to an anonymous erased subject, scrub their name from every "
        "event that mentions them, delete their stats. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        user = user_model._default_manager.filter(
            **{user_model.USERNAME_FIELD: options["username"]}
        ).first()
        if user is None:
            raise CommandError(f"Unknown username {options['username']!r}.")
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
