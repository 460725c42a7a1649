"""Reconcile time for 100,000 users: the set-based drift check, and the missing-event walk.

Run on PostgreSQL (the target is 100,000 users in under a minute):
    createdb -h 127.0.0.1 -U postgres bench_ops
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_ops .venv/bin/python bench/reconcile.py
Options: --users N --coins-per-user N --drifted N. It flushes the database.
"""

from __future__ import annotations

import argparse
import random
import time

from _setup import fresh_database, make_history, make_users


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--coins-per-user", type=int, default=2)
    parser.add_argument("--drifted", type=int, default=1000)
    args = parser.parse_args()

    from django.db import connection
    from django.db.models import F

    from ledger.models import UserProfileStats
    from ledger.operations.backfill import backfill_activity
    from ledger.operations.reconcile import reconcile_stats

    fresh_database()
    started = time.perf_counter()
    users = make_users(args.users)
    make_history(users=users, tournaments=0, players=0, coins=args.users * args.coins_per_user)
    backfill_activity(batch_size=5000)
    drifted = random.Random(7).sample(users, args.drifted)
    UserProfileStats.objects.filter(user_id__in=drifted).update(total_earned=F("total_earned") + 1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"{args.users:,} users, {UserProfileStats.objects.count():,} stats rows, "
        f"{args.drifted:,} drifted by hand; set up in {time.perf_counter() - started:.1f}s "
        f"on {connection.vendor}"
    )

    started = time.perf_counter()
    report = reconcile_stats()
    elapsed = time.perf_counter() - started
    print(
        f"reconcile (check): {report.users_checked:,} users in {elapsed:.1f}s: "
        f"{len(report.drifted):,} drifted, {report.missing_events_total} missing events"
    )
    started = time.perf_counter()
    fixed = reconcile_stats(fix=True)
    print(
        f"reconcile --fix: {fixed.fixed_users:,} fixed, {fixed.created_stats_rows:,} stats rows "
        f"created in {time.perf_counter() - started:.1f}s"
    )
    started = time.perf_counter()
    clean = reconcile_stats()
    print(f"rerun: {len(clean.drifted)} drifted in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
