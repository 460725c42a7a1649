"""The benchmark dataset: platform rows made in SQL, their events recorded by the real backfill.

Users, profiles, wallets, tournaments, registrations, matches and DeltaCoin transactions are
generated inside PostgreSQL (``INSERT … SELECT generate_series``: no row crosses the wire), so
they exist as a platform's history with no events. ``backfill_activity`` then records every
event through the one write path, so the ledger is exactly what the translators say (I3) and
the stats are its fold (I1). The peer's table is filled from the ledger in one statement.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from django.db import connection

from bench.common import timed

DATASET_VERSION = 2  # 2: per-game, head-to-head and rarity projections (issue 17)


@dataclass(frozen=True)
class DatasetSize:
    users: int
    heavy_users: int
    heavy_coins: int
    tournaments: int
    players: int
    coins: int
    live_users: int
    page_size: int
    deep_page: int

    @property
    def expected_events(self) -> int:
        # a registration: registered + joined; a player's two matches: 2 x (played + won/lost)
        return (
            self.heavy_users * self.heavy_coins + self.tournaments * self.players * 10 + self.coins
        )

    def fingerprint(self) -> str:
        text = json.dumps({"v": DATASET_VERSION, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


QUICK_SIZE = DatasetSize(
    users=200,
    heavy_users=2,
    heavy_coins=2_000,
    tournaments=8,
    players=32,
    coins=2_000,
    live_users=40,
    page_size=50,
    deep_page=30,
)
FULL_SIZE = DatasetSize(
    users=10_000,
    heavy_users=5,
    heavy_coins=20_000,
    tournaments=1_000,
    players=64,
    coins=260_000,
    live_users=64,
    page_size=50,
    deep_page=200,
)

BASE = "timestamptz '2024-01-01 00:00:00+00'"


def table(model_path: str) -> str:
    from django.apps import apps

    return connection.ops.quote_name(apps.get_model(model_path)._meta.db_table)


def stored_fingerprint() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text)")
        cursor.execute("SELECT value FROM bench_meta WHERE key = 'fingerprint'")
        row = cursor.fetchone()
    return row[0] if row else None


def _remember(key: str, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_meta VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = %s",
            [key, value, value],
        )


def build(size: DatasetSize, *, log: Any = print) -> dict[str, Any]:
    """Make the dataset on an empty, migrated database; return how long each part took."""
    took: dict[str, Any] = {}
    stored_fingerprint()  # creates bench_meta
    took["platform_rows_s"], _ = timed(lambda: _platform_rows(size))
    log(f"  platform rows in {took['platform_rows_s']:.1f}s; backfilling their events ...")
    from ledger.operations.backfill import backfill_activity

    seconds, report = timed(lambda: backfill_activity(batch_size=2000))
    took["backfill_s"] = seconds
    took["backfill_events"] = report.total_events
    took["backfill_events_per_s"] = report.total_events / seconds
    log(f"  {report.total_events:,} events backfilled in {seconds:.1f}s")
    took["peer_copy_s"], _ = timed(mirror_into_peer)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as a live database is: bulk loads have no statistics
    _remember("fingerprint", size.fingerprint())
    _remember("built", json.dumps(took))
    return took


def _platform_rows(size: DatasetSize) -> None:
    user, profile, wallet = (
        table("auth.User"),
        table("profiles.UserProfile"),
        table("economy.DeltaCrownWallet"),
    )
    tx, tournament = table("economy.DeltaCrownTransaction"), table("tournaments.Tournament")
    total_users = size.users + size.live_users
    normal = size.users - size.heavy_users
    with connection.cursor() as c:
        c.execute(
            f"INSERT INTO {user} (password, is_superuser, username, first_name, last_name, email,"
            " is_staff, is_active, date_joined) "
            "SELECT '!', false, 'bench' || g, '', '', 'bench' || g || '@example.test', false, "
            f"true, {BASE} FROM generate_series(0, %s - 1) g ORDER BY g",
            [total_users],
        )
        c.execute(f"SELECT min(id) FROM {user} WHERE username LIKE 'bench%%'")
        first_id = c.fetchone()[0]
        _remember("first_user_id", str(first_id))
        c.execute(
            f"INSERT INTO {profile} (user_id, display_name, activity_public) "
            f"SELECT id, 'Player ' || id, true FROM {user} ORDER BY id"
        )
        c.execute(f"INSERT INTO {wallet} (user_id, created_at) SELECT id, {BASE} FROM {user}")
        # Heavy users: the first ``heavy_users`` ids, each with heavy_coins transactions.
        c.execute(
            f"INSERT INTO {tx} (wallet_id, amount, reason, created_at) "
            f"SELECT w.id, CASE WHEN g %% 3 = 0 THEN -(g %% 50 + 1) ELSE g %% 50 + 1 END, "
            f"CASE WHEN g %% 3 = 0 THEN 'purchase' ELSE 'winner' END, "
            f"{BASE} + g * interval '7 minutes' "
            f"FROM {wallet} w CROSS JOIN generate_series(1, %s) g "
            f"WHERE w.user_id < %s ORDER BY w.id, g",
            [size.heavy_coins, first_id + size.heavy_users],
        )
        # Everyone else's coins, spread round robin over the normal users.
        c.execute(
            f"INSERT INTO {tx} (wallet_id, amount, reason, created_at) "
            f"SELECT w.id, CASE WHEN g %% 3 = 0 THEN -(g %% 50 + 1) ELSE g %% 50 + 1 END, "
            "CASE WHEN g %% 3 = 0 THEN 'purchase' ELSE 'winner' END, "
            f"{BASE} + g * interval '1 minute' "
            f"FROM generate_series(0, %s - 1) g JOIN {wallet} w "
            f"ON w.user_id = %s + %s + g %% %s ORDER BY g",
            [size.coins, first_id, size.heavy_users, normal],
        )
        c.execute(
            f"INSERT INTO {tournament} (name, game, status, starts_at, entry_fee, team_size) "
            "SELECT 'Bench Cup ' || t, 'valorant', 'completed', "
            f"{BASE} + t * interval '1 day', 0, 1 "
            f"FROM generate_series(0, %s - 1) t ORDER BY t",
            [size.tournaments],
        )
        c.execute(f"SELECT coalesce(min(id), 0) FROM {tournament} WHERE name LIKE 'Bench Cup %%'")
        first_t = c.fetchone()[0]
    make_tournaments(
        first_tournament=first_t,
        count=size.tournaments,
        players=size.players,
        first_user=first_id + size.heavy_users,
        users=normal,
    )


def make_tournaments(
    *, first_tournament: int, count: int, players: int, first_user: int, users: int
) -> None:
    """Registrations (confirmed, checked in) and a round of two matches per player, in SQL:
    player i of a tournament beats players i+1 and i+2 (mod players)."""
    registration, match = table("tournaments.Registration"), table("tournaments.Match")
    with connection.cursor() as c:
        c.execute(
            f"INSERT INTO {registration} (tournament_id, user_id, status, checked_in, created_at,"
            " confirmed_at, checked_in_at) "
            f"SELECT %s + t, %s + (t * %s + i) %% %s, 'confirmed', true, "
            f"{BASE} + t * interval '1 day', {BASE} + t * interval '1 day', "
            f"{BASE} + t * interval '1 day' + interval '1 hour' "
            "FROM generate_series(0, %s - 1) t CROSS JOIN generate_series(0, %s - 1) i "
            "ORDER BY t, i",
            [first_tournament, first_user, players, users, count, players],
        )
        c.execute(
            f"WITH r AS (SELECT id, tournament_id, row_number() OVER "
            f"(PARTITION BY tournament_id ORDER BY id) - 1 AS i FROM {registration} "
            "WHERE tournament_id >= %s AND tournament_id < %s) "
            f"INSERT INTO {match} (tournament_id, round, participant1_id, participant2_id, "
            "winner_id, loser_id, state, completed_at) "
            f"SELECT a.tournament_id, s, a.id, b.id, a.id, b.id, 'completed', "
            f"{BASE} + (a.tournament_id - %s) * interval '1 day' + (1 + s) * interval '1 hour' "
            "FROM r a CROSS JOIN generate_series(1, 2) s "
            "JOIN r b ON b.tournament_id = a.tournament_id AND b.i = (a.i + s) %% %s "
            "ORDER BY a.tournament_id, a.i, s",
            [first_tournament, first_tournament + count, first_tournament, players],
        )


def mirror_into_peer() -> None:
    """The peer's actions for every ledger event: actor = the user, verb = the event type."""
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType

    user_type = ContentType.objects.get_for_model(get_user_model())
    action, activity = table("actstream.Action"), table("ledger.UserActivity")
    with connection.cursor() as c:
        c.execute(
            f"INSERT INTO {action} (actor_content_type_id, actor_object_id, verb, description, "
            "timestamp, public) "
            f"SELECT %s, user_id::text, event_type, NULL, timestamp, true FROM {activity} "
            "WHERE user_id IS NOT NULL ORDER BY id",
            [user_type.pk],
        )


def first_user_id() -> int:
    with connection.cursor() as c:
        c.execute("SELECT value FROM bench_meta WHERE key = 'first_user_id'")
        return int(c.fetchone()[0])
