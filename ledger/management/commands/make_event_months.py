"""Make the coming months' partitions of the events table (PostgreSQL; nothing on SQLite).

Celery beat runs it daily (``ledger.make_event_months``); without Celery, from cron:
``30 2 * * * cd /app && python manage.py make_event_months``. ``migrate`` makes them too.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.operations.partitions import make_coming_event_months


class Command(BaseCommand):
    help = "Make this month's partition of the events and the coming months' (PostgreSQL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--ahead",
            type=int,
            default=None,
            help="Months after this one (default: LEDGER_EVENT_MONTHS_AHEAD).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ahead = options["ahead"]
        if ahead is not None and not 0 <= ahead <= 120:
            raise CommandError("--ahead must be between 0 and 120 months.")
        made = make_coming_event_months(ahead=ahead)
        self.stdout.write(f"Months of events made: {made}.")
