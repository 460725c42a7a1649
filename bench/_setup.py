"""Shared setup of the operations benchmarks: Django on a disposable database, bulk-made history.

Rows are written with ``bulk_create``, which fires no signals: a platform history with no events,
exactly what backfill and reconcile's missing-event check meet in production.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

BASE = datetime(2024, 1, 1, tzinfo=UTC)


def fresh_database() -> None:
    """Migrate, then empty every table (TRUNCATE on PostgreSQL: the event trigger is for DELETE)."""
    name = str(settings.DATABASES["default"]["NAME"])
    if connection.vendor == "postgresql" and not name.startswith("bench"):
        sys.exit(f"Refusing to flush {name!r}: point DATABASE_URL at a database named bench*.")
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)


def make_users(count: int) -> list[int]:
    """Users with wallets and profiles, bulk-created (no signals)."""
    from esports.economy.models import DeltaCrownWallet
    from esports.profiles.models import UserProfile

    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        [user_model(username=f"bench{n}", email=f"bench{n}@example.test") for n in range(count)],
        batch_size=5000,
    )
    ids = [user.pk for user in users]
    UserProfile.objects.bulk_create([UserProfile(user_id=pk) for pk in ids], batch_size=5000)
    DeltaCrownWallet.objects.bulk_create(
        [DeltaCrownWallet(user_id=pk) for pk in ids], batch_size=5000
    )
    return ids


def make_history(*, users: list[int], tournaments: int, players: int, coins: int) -> None:
    """Solo tournaments of ``players`` each (registered, checked in, a round robin of matches
    between neighbours), plus ``coins`` DeltaCoin transactions spread over the users."""
    from esports.economy.models import DeltaCrownTransaction, DeltaCrownWallet
    from esports.tournaments.models import Match, Registration, Tournament

    wallets = dict(DeltaCrownWallet.objects.values_list("user_id", "pk"))
    for t in range(tournaments):
        at = BASE + timedelta(days=t)
        tournament = Tournament.objects.create(
            name=f"Bench Cup {t}", game="valorant", status="completed", starts_at=at
        )
        seats = [users[(t * players + i) % len(users)] for i in range(players)]
        registrations = Registration.objects.bulk_create(
            [
                Registration(
                    tournament=tournament,
                    user_id=pk,
                    status="confirmed",
                    checked_in=True,
                    created_at=at,
                    confirmed_at=at,
                    checked_in_at=at + timedelta(hours=1),
                )
                for pk in seats
            ]
        )
        matches = []
        for i, side in enumerate(registrations):
            for step in (1, 2):
                other = registrations[(i + step) % len(registrations)]
                matches.append(
                    Match(
                        tournament=tournament,
                        round=step,
                        participant1=side,
                        participant2=other,
                        winner=side,
                        loser=other,
                        state="completed",
                        completed_at=at + timedelta(hours=2 + step),
                    )
                )
        Match.objects.bulk_create(matches, batch_size=5000)
    batch = []
    for n in range(coins):
        pk = users[n % len(users)]
        batch.append(
            DeltaCrownTransaction(
                wallet_id=wallets[pk],
                amount=(n % 50 + 1) * (1 if n % 3 else -1),
                reason="winner" if n % 3 else "purchase",
                created_at=BASE + timedelta(minutes=n),
            )
        )
        if len(batch) == 10_000:
            DeltaCrownTransaction.objects.bulk_create(batch)
            batch = []
    DeltaCrownTransaction.objects.bulk_create(batch)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as a live database is: fresh bulk loads have no statistics
