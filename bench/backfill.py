"""Backfill throughput: events recorded per second on a history with no events.

Run on PostgreSQL (the target is >= 10,000 events/s on a 2-core machine):
    createdb -h 127.0.0.1 -U postgres bench_ops
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_ops .venv/bin/python bench/backfill.py
Options: --users N --tournaments N --players N --coins N --batch-size N. It flushes the database.
"""

from __future__ import annotations

import argparse
import os
import time

from _setup import fresh_database, make_history, make_users


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--tournaments", type=int, default=200)
    parser.add_argument("--players", type=int, default=64)
    parser.add_argument("--coins", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    args = parser.parse_args()

    from django.db import connection

    from ledger.models import UserActivity
    from ledger.operations.backfill import backfill_activity
    from ledger.operations.reconcile import reconcile_stats

    fresh_database()
    started = time.perf_counter()
    users = make_users(args.users)
    make_history(users=users, tournaments=args.tournaments, players=args.players, coins=args.coins)
    print(f"history built in {time.perf_counter() - started:.1f}s on {connection.vendor}")

    started, cpu = time.perf_counter(), time.process_time()
    report = backfill_activity(batch_size=args.batch_size)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"backfill: {report.total_events:,} events from {report.total_rows:,} rows in "
        f"{elapsed:.1f}s = {report.total_events / elapsed:,.0f} events/s "
        f"(this process used {cpu:.1f}s of CPU; load average {os.getloadavg()[0]:.2f})"
    )
    for source in report.sources:
        print(f"  {source.name}: {source.rows:,} rows, {source.total_events:,} events")
    assert UserActivity.objects.count() == report.total_events

    started = time.perf_counter()
    again = backfill_activity(batch_size=args.batch_size)
    print(
        f"second run: {again.total_events} events recorded, {again.total_rows:,} rows checked "
        f"in {time.perf_counter() - started:.1f}s"
    )
    check = reconcile_stats(user_ids=users[:2000])
    print(f"reconcile of 2,000 users after backfill: {len(check.drifted)} drifted (want 0)")


if __name__ == "__main__":
    main()
