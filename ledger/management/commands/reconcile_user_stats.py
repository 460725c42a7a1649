"""Compare every user's stats with a recompute from events; find missing events; --fix repairs.

Exit status: 0 when nothing was found; 1 when drift or missing events were found (also when
--fix repaired them, so a scheduler can alert); 2 on a usage error such as an unknown username.
Nightly without Celery (cron): ``0 3 * * * cd /app && python manage.py reconcile_user_stats --fix``.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO, cast

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.management.common import run_with_progress
from ledger.operations.reconcile import ReconcileReport


class Command(BaseCommand):
    help = "Verify UserProfileStats against UserActivity (and find missing events); --fix repairs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--fix", action="store_true", help="Repair drift, record missing events."
        )
        parser.add_argument(
            "--user", action="append", dest="usernames", metavar="USERNAME", help="Repeatable."
        )
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        user_ids = None
        if options["usernames"]:
            user_ids = self._user_ids(options["usernames"])
        parameters = {"user_ids": user_ids, "fix": options["fix"]}
        _, report = run_with_progress(
            kind="reconcile", parameters=parameters, stream=cast(TextIO, self.stderr._out)
        )
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            self._print(report)
        if report.exit_code:
            sys.exit(report.exit_code)

    def _user_ids(self, usernames: list[str]) -> list[int]:
        user_model = get_user_model()
        field = user_model.USERNAME_FIELD
        found = dict(
            user_model._default_manager.filter(**{f"{field}__in": usernames}).values_list(
                field, "pk"
            )
        )
        unknown = sorted(set(usernames) - set(found))
        if unknown:
            raise CommandError(f"Unknown username(s): {', '.join(unknown)}.", returncode=2)
        return [found[name] for name in usernames]

    def _print(self, report: ReconcileReport) -> None:
        for user in report.drifted:
            note = " (no stats row)" if user.missing_row else ""
            self.stdout.write(
                self.style.WARNING(f"DRIFT: {user.username} (id {user.user_id}){note}")
            )
            for drift in user.fields:
                self.stdout.write(
                    f"  {drift.field}: expected {drift.expected}, current {drift.current}"
                )
        for row in report.drifted_rows:
            key = ", ".join(str(part) for part in row.key)
            self.stdout.write(self.style.WARNING(f"DRIFT: {row.projection} ({key})"))
            for drift in row.fields:
                self.stdout.write(
                    f"  {drift.field}: expected {drift.expected}, current {drift.current}"
                )
        verb = "recorded" if report.fix else "missing"
        for source, types in report.missing_events.items():
            for event_type, count in types.items():
                self.stdout.write(
                    self.style.WARNING(f"{verb.upper()}: {source} {event_type} {count}")
                )
        for user_id in report.unerased_users:
            state = "erased again" if report.fix else "still has events or stats"
            self.stdout.write(self.style.WARNING(f"ERASED USER (id {user_id}): {state}"))
        summary = (
            f"Checked {report.users_checked} users: {len(report.drifted)} drifted, "
            f"{report.missing_events_total} missing events, "
            f"{report.users_without_stats} without a stats row, "
            f"{len(report.drifted_rows)} other projection rows drifted"
        )
        if report.fix:
            summary += (
                f"; fixed {report.fixed_users} users, created {report.created_stats_rows} "
                f"stats rows, rewrote {report.fixed_rows} other projection rows, "
                f"recorded {report.recorded_events} events"
            )
        style = self.style.WARNING if report.found_problems else self.style.SUCCESS
        self.stdout.write(style(summary + "."))
