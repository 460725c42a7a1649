"""Loads the demo history once (it is a no-op when the demo users exist)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from esports.demo import DEMO_STAFF, load_demo_data


class Command(BaseCommand):
    help = "Write a small demo history (players, a solo and a team tournament, coins) once."

    def handle(self, *args: Any, **options: Any) -> None:
        # A staff login for GraphiQL and the admin, on local (DEBUG) installs only.
        password = "admin" if settings.DEBUG else None
        summary = load_demo_data(staff_password=password)
        if summary is None:
            self.stdout.write("Demo data already loaded.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {summary.users} players and {summary.tournaments} tournaments."
            )
        )
        if password:
            self.stdout.write(f"Staff login for /admin/ and GraphiQL: {DEMO_STAFF} / {password}")
