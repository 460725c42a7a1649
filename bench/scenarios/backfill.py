"""2. Backfill: events per second of the real ``backfill_activity`` over a fresh slice of
history (platform rows made in SQL, so they have no events yet), next to two floors fed the very
event rows the backfill recorded: psycopg ``executemany`` in batches of 100 with their stats
updates (one transaction a batch), and one COPY of the rows (no stats).

Each repetition adds a slice: tournaments (registrations and matches) and DeltaCoin
transactions. The backfill resumes from a checkpoint set just before the slice, so it walks the
slice's rows only, exactly as a resumed run does. Floors write into copies of the ledger tables.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from django.db import connection

from bench.common import Mode, Result, raw_connection, timed
from bench.dataset import BASE, DatasetSize, first_user_id, make_tournaments, table
from bench.scenarios.recording import floor_tables

SOURCES = ("tournaments.registration", "tournaments.match", "economy.transaction")
COLUMNS = (
    "user_id, event_type, timestamp, created_at, metadata, source_model, source_id, occurrence, "
    "amount, reverses_id"
)
BATCH = 100


def run(*, mode: Mode, size: DatasetSize) -> Result:
    from ledger.operations.backfill import backfill_activity

    result = Result("backfill")
    samples: dict[str, list[float]] = {"backfill": [], "executemany floor": [], "COPY floor": []}
    floor_tables()
    with raw_connection(prepare_threshold=5) as conn:
        for _ in range(mode.reps):
            before = _max_id(table("ledger.UserActivity"))
            _checkpoints_at_end()
            _slice(mode, size)
            seconds, report = timed(lambda: backfill_activity(sources=list(SOURCES)))
            samples["backfill"].append(report.total_events / seconds)
            rows = _recorded_rows(before)
            if len(rows) != report.total_events:
                raise AssertionError("backfill recorded other rows than it reported")
            samples["executemany floor"].append(_executemany(conn, rows))
            samples["COPY floor"].append(_copy(conn, rows))
    for name, values in samples.items():
        result.figure(name, "events/s", values)
    result.ratio(
        "backfill ÷ executemany floor",
        ours="backfill",
        other="executemany floor",
        at_least=1,
    )
    result.ratio("backfill ÷ COPY", ours="backfill", other="COPY floor", at_least=0.3)
    result.notes.append(
        f"each repetition: {mode.backfill_tournaments} tournaments of {size.players} players and "
        f"{mode.backfill_coins:,} transactions ({len(rows):,} events)"
    )
    return result


def _max_id(name: str) -> int:
    with connection.cursor() as c:
        c.execute(f"SELECT coalesce(max(id), 0) FROM {name}")
        return int(c.fetchone()[0])


def _checkpoints_at_end() -> None:
    """An unfinished checkpoint at each source's last row: the next run walks only new rows."""
    from django.utils import timezone

    from ledger.models import BackfillCheckpoint
    from ledger.sources import get_source

    for name in SOURCES:
        model = get_source(name).model
        last = _max_id(table(f"{model._meta.app_label}.{model.__name__}"))
        BackfillCheckpoint.objects.update_or_create(
            source=name,
            defaults={
                "last_pk": last,
                "rows_done": 0,
                "finished_at": None,
                "updated_at": timezone.now(),
            },
        )


def _slice(mode: Mode, size: DatasetSize) -> None:
    tournament, tx, wallet = (
        table("tournaments.Tournament"),
        table("economy.DeltaCrownTransaction"),
        table("economy.DeltaCrownWallet"),
    )
    first = first_user_id() + size.heavy_users
    normal = size.users - size.heavy_users
    with connection.cursor() as c:
        c.execute(
            f"INSERT INTO {tournament} (name, game, status, starts_at, entry_fee, team_size) "
            "SELECT 'Backfill Cup ' || t, 'valorant', 'completed', "
            f"{BASE} + t * interval '1 day', 0, 1 FROM generate_series(0, %s - 1) t "
            "ORDER BY t RETURNING id",
            [mode.backfill_tournaments],
        )
        first_t = min(row[0] for row in c.fetchall())
        c.execute(
            f"INSERT INTO {tx} (wallet_id, amount, reason, created_at) "
            "SELECT w.id, g %% 50 + 1, 'winner', "
            f"{BASE} + g * interval '1 minute' FROM generate_series(0, %s - 1) g "
            f"JOIN {wallet} w ON w.user_id = %s + g %% %s ORDER BY g",
            [mode.backfill_coins, first, normal],
        )
    make_tournaments(
        first_tournament=first_t,
        count=mode.backfill_tournaments,
        players=size.players,
        first_user=first,
        users=normal,
    )
    with connection.cursor() as c:
        c.execute("ANALYZE")


def _recorded_rows(after_id: int) -> list[tuple[Any, ...]]:
    with connection.cursor() as c:
        c.execute(
            f"SELECT {COLUMNS} FROM ledger_useractivity WHERE id > %s ORDER BY id", [after_id]
        )
        return [(*row[:4], _json(row[4]), *row[5:]) for row in c.fetchall()]


def _json(value: Any) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(value)


def _executemany(conn: Any, rows: list[tuple[Any, ...]]) -> float:
    """Batches of 100: executemany INSERT, then one UPDATE per user of the batch's summed
    deltas, one transaction per batch; events/s."""
    from ledger.fold import event_deltas

    with conn.transaction():
        conn.execute("TRUNCATE bench_floor_activity")
    insert = f"INSERT INTO bench_floor_activity ({COLUMNS}) VALUES ({', '.join(['%s'] * 10)})"
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        per_user: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        last: dict[int, Any] = {}
        for row in batch:
            for name, step in event_deltas(row[1], amount=row[8]).items():
                per_user[row[0]][name] += step
            last[row[0]] = max(last.get(row[0], row[2]), row[2])
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(insert, batch)
            updates = []
            for user, deltas in per_user.items():
                sets = ", ".join(f"{name} = {name} + %s" for name in deltas)
                updates.append((sets, [*deltas.values(), last[user], user]))
            for sets, params in updates:
                cur.execute(
                    f"UPDATE bench_floor_stats SET {sets}, last_activity_at = "
                    "greatest(last_activity_at, %s) WHERE user_id = %s",
                    params,
                )
    return len(rows) / (time.perf_counter() - started)


def _copy(conn: Any, rows: list[tuple[Any, ...]]) -> float:
    """COPY the rows in one transaction (no stats: the least a load can do); events/s."""
    with conn.transaction():
        conn.execute("TRUNCATE bench_floor_activity")
    started = time.perf_counter()
    copy_sql = f"COPY bench_floor_activity ({COLUMNS}) FROM STDIN"
    with conn.transaction(), conn.cursor() as cur, cur.copy(copy_sql) as copy:
        for row in rows:
            copy.write_row(row)
    return len(rows) / (time.perf_counter() - started)
