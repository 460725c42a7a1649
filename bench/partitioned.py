"""One database of the partitions benchmark (``bench/scenarios/partitions.py`` runs it twice, on a
partitioned and an unpartitioned copy of the same data, in child processes of one run).

``python -m bench.partitioned build|measure|huge|migration [options]``, with ``DATABASE_URL``
pointing at a database named ``bench*``; each prints one JSON document on its last line.

- ``build [--flat]``: migrate (``--flat``: back to before ledger 0600, the one table), users,
  synthetic events spread over the 24 months up to now (a fourth of the users idle for the last
  12) and their stats, written with INSERT … SELECT generate_series; then an esports history
  backfilled through the write path, timed.
- ``measure``: live recording (a match's four events a transaction), a feed's first and deep page
  through the selector, and the first page of idle users.
- ``huge``: the same feed pages and a stats read, on the data ``build`` made (made large).
- ``migration --rows N``: N events before ledger 0600, then migration 0600 and its reverse, timed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

MONTHS = 24
SPAN = timedelta(days=730)
"""The synthetic events fill the 24 months up to the build (what the archive keeps hot)..."""
IDLE = 4
"""... but those of every ``IDLE``-th user fill its first 12 only: idle for a year since."""
TYPES = ("match_played", "match_won", "match_lost", "achievement_unlocked", "team_joined")


def _refuse_foreign_database() -> None:
    name = str(settings.DATABASES["default"]["NAME"])
    if not name.startswith("bench"):
        sys.exit(f"Refusing to use {name!r}: point DATABASE_URL at a database named bench*.")


def _before_partitions() -> str:
    """The ledger migration 0600 follows (the lead renumbers at merge)."""
    from django.db.migrations.loader import MigrationLoader

    migration = MigrationLoader(connection).get_migration("ledger", "0600_partitioned_events")
    [name] = [name for app, name in migration.dependencies if app == "ledger"]
    return name


def _sql(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def synthetic_events(*, users: list[int], per_user: int) -> float:
    """``per_user`` events for each user, evenly over the ``SPAN`` up to now (the first half of
    it for an idle user), and the stats rows they fold to; returns the seconds it took."""
    from ledger.operations.partitions import coming_months
    from ledger.recorders import recorder

    began = time.perf_counter()
    start = datetime.now(UTC) - SPAN
    with transaction.atomic():
        recorder().make_event_months(coming_months(today=start.date(), ahead=MONTHS))
    step = SPAN / per_user
    first, last = min(users), max(users)
    for low in range(first, last + 1, 20_000):  # a transaction per 20,000 users
        high = min(low + 20_000, last + 1)
        _sql(
            """
            INSERT INTO ledger_useractivity (user_id, event_type, "timestamp", created_at,
                metadata, source_model, source_id, occurrence, amount)
            SELECT u, (%s::text[])[1 + (g + u) %% 5],
                   %s + g * %s * CASE WHEN u %% %s = 0 THEN 0.5 ELSE 1 END
                      + (u %% 600) * interval '1 second', now(), '{}',
                   'bench.synthetic', g::bigint * 10000000 + u, 0, 0
            FROM generate_series(%s, %s - 1) AS u, generate_series(0, %s - 1) AS g
            """,
            [list(TYPES), start, step, IDLE, low, high, per_user],
        )
    _sql(
        """
        INSERT INTO ledger_userprofilestats (user_id, matches_played, matches_won, matches_lost,
            achievements_count, teams_joined, current_teams_count, last_activity_at,
            stats_updated_at)
        SELECT user_id, count(*) FILTER (WHERE event_type = 'match_played'),
               count(*) FILTER (WHERE event_type = 'match_won'),
               count(*) FILTER (WHERE event_type = 'match_lost'),
               count(*) FILTER (WHERE event_type = 'achievement_unlocked'),
               count(*) FILTER (WHERE event_type = 'team_joined'),
               count(*) FILTER (WHERE event_type = 'team_joined'), max("timestamp"), now()
        FROM ledger_useractivity GROUP BY user_id
        """
    )
    _sql("ANALYZE")
    return time.perf_counter() - began


def build(*, flat: bool, users: int, per_user: int, history: int) -> dict[str, Any]:
    from bench._setup import make_history, make_users
    from ledger.models import UserActivity
    from ledger.operations.backfill import backfill_activity

    call_command("migrate", verbosity=0)
    if flat:
        call_command("migrate", "ledger", _before_partitions(), verbosity=0)
    ids = make_users(users)
    seconds = synthetic_events(users=ids, per_user=per_user)
    # An esports history with no events yet, for the backfill: 8-player tournaments, a day apart.
    make_history(users=ids[:400], tournaments=history, players=8, coins=history * 20)
    before = UserActivity.objects.count()
    began = time.perf_counter()
    backfill_activity(batch_size=2000)
    backfill_seconds = time.perf_counter() - began
    backfilled = UserActivity.objects.count() - before
    _sql("ANALYZE")
    return {
        "events": before + backfilled,
        "generated_seconds": seconds,
        "backfill_events": backfilled,
        "backfill_events_per_s": backfilled / backfill_seconds,
        "bytes": _sizes(),
    }


def _sizes() -> dict[str, int]:
    """Heap and index bytes of the events, partitions included."""
    [(heap, indexes, rows)] = _sql(
        """
        SELECT coalesce(sum(pg_table_size(c.oid)), 0), coalesce(sum(pg_indexes_size(c.oid)), 0),
               coalesce(sum(c.reltuples), 0)
        FROM pg_class c
        WHERE c.relkind = 'r' AND (c.relname = 'ledger_useractivity'
              OR c.oid IN (SELECT inhrelid FROM pg_inherits
                           WHERE inhparent = 'ledger_useractivity'::regclass))
        """
    )
    return {"heap": int(heap), "indexes": int(indexes), "rows": int(rows)}


def _pages(users: list[int], per_user: int) -> dict[str, list[float]]:
    """Milliseconds of a feed's first page and of a page ~80% down the user's history."""
    from ledger.models import UserActivity
    from ledger.selectors import Position, activity_feed_page, page_request

    samples: dict[str, list[float]] = {"feed first page": [], "feed deep page": []}
    for user_id in users:
        samples["feed first page"].append(_first_page(user_id))
        deep = (
            UserActivity.objects.filter(user_id=user_id)
            .order_by("-timestamp", "-id")
            .values_list("timestamp", "id")[int(per_user * 0.8)]
        )
        request = page_request(first=50, after=Position(key=deep[0], id=deep[1]))
        began = time.perf_counter()
        page = activity_feed_page(user_id=user_id, request=request, include_economy=True)
        samples["feed deep page"].append((time.perf_counter() - began) * 1000)
        assert page.rows
    return samples


def _first_page(user_id: int) -> float:
    """Milliseconds of a feed's first page of 50."""
    from ledger.selectors import activity_feed_page, page_request

    began = time.perf_counter()
    page = activity_feed_page(user_id=user_id, request=page_request(first=50), include_economy=True)
    elapsed = (time.perf_counter() - began) * 1000
    assert len(page.rows) == 50
    return elapsed


def _users() -> tuple[list[int], list[int]]:
    """The users with events, active ones and those idle for a year."""
    users = [pk for (pk,) in _sql("SELECT user_id FROM ledger_userprofilestats ORDER BY 1")]
    return [pk for pk in users if pk % IDLE], [pk for pk in users if not pk % IDLE]


def measure(*, matches: int, repeats: int, per_user: int, seed: int) -> dict[str, Any]:
    """Live recording and feed pages, ``seed`` choosing the same users on both databases."""
    from ledger.drafts import NewEvent
    from ledger.services.recording import record_activity

    active, idle = _users()
    chosen = random.Random(seed).sample(active, min(len(active), repeats))
    samples = _pages(chosen, per_user)
    idle_chosen = random.Random(seed).sample(idle, min(len(idle), repeats // 3))
    samples["feed first page, idle a year"] = [_first_page(user_id) for user_id in idle_chosen]
    pairs = random.Random(seed).sample(active + idle, 2 * matches)
    now = datetime.now(UTC)
    began = time.perf_counter()
    for n in range(matches):
        a, b = pairs[2 * n], pairs[2 * n + 1]
        source = seed * 1_000_000 + n

        def event(user: int, kind: str, source: int = source) -> NewEvent:
            return NewEvent(user, kind, now, {}, "bench.live", source)

        record_activity(
            events=[
                event(a, "match_played"),
                event(b, "match_played"),
                event(a, "match_won"),
                event(b, "match_lost"),
            ]
        )
    samples["recording"] = [4 * matches / (time.perf_counter() - began)]
    return samples


def huge(*, repeats: int, per_user: int) -> dict[str, Any]:
    """Feed pages and the stats read on a large table."""
    from ledger.selectors.stats import user_stats

    active, _ = _users()
    chosen = random.Random(7).sample(active, min(len(active), repeats))
    samples = _pages(chosen, per_user)
    samples["stats"] = []
    for user_id in chosen:
        began = time.perf_counter()
        user_stats(user_id=user_id)
        samples["stats"].append((time.perf_counter() - began) * 1000)
    return {"samples": samples, "bytes": _sizes()}


def migration(*, rows: int) -> dict[str, Any]:
    """Events before ledger 0600, then migration 0600 forward and back, timed."""
    from bench._setup import make_users

    call_command("migrate", verbosity=0)
    call_command("migrate", "ledger", _before_partitions(), verbosity=0)
    users = make_users(max(1, rows // 1000))
    synthetic_events(users=users, per_user=1000)
    began = time.perf_counter()
    call_command("migrate", "ledger", "0600", verbosity=0)
    forward = time.perf_counter() - began
    began = time.perf_counter()
    call_command("migrate", "ledger", _before_partitions(), verbosity=0)
    back = time.perf_counter() - began
    return {"rows": len(users) * 1000, "forward_seconds": forward, "back_seconds": back}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.partitioned", description=__doc__)
    parser.add_argument("task", choices=("build", "measure", "huge", "migration"))
    parser.add_argument("--flat", action="store_true")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--per-user", type=int, default=200)
    parser.add_argument("--history", type=int, default=120)
    parser.add_argument("--matches", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    _refuse_foreign_database()
    if args.task == "build":
        result = build(
            flat=args.flat, users=args.users, per_user=args.per_user, history=args.history
        )
    elif args.task == "measure":
        result = measure(
            matches=args.matches, repeats=args.repeats, per_user=args.per_user, seed=args.seed
        )
    elif args.task == "huge":
        result = huge(repeats=args.repeats, per_user=args.per_user)
    else:
        result = migration(rows=args.rows)
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
