"""1. Live recording: a platform row saved (``Match.objects.create``) records its events and
their fold in the save's transaction. Solo matches (4 events) and 5-a-side team matches (20).

Floor: raw psycopg, one transaction holding one event INSERT and its stats UPDATE, into copies
of the ledger's tables (same columns, indexes, unique constraint, user foreign key). Peer:
django-activity-stream's ``action.send`` once per event, as its users call it (autocommit).
The process uses the in-memory channel layer (no REDIS_URL): publishing after commit is cheap.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection

from bench.common import Mode, Result, raw_connection
from bench.dataset import DatasetSize, first_user_id

TEAM_SIZE = 5


def run(*, mode: Mode, size: DatasetSize) -> Result:
    from django.contrib.auth import get_user_model

    result = Result("recording")
    live = list(
        get_user_model()
        .objects.filter(pk__gte=first_user_id() + size.users)
        .order_by("pk")[: size.live_users]
    )
    stamp = datetime.now(UTC)
    solo = _solo_tournament(live[:8], stamp)
    teams = _team_tournament(live[8 : 8 + 4 * TEAM_SIZE], stamp)
    floor_tables()
    samples: dict[str, list[float]] = {
        k: [] for k in ("solo match", "team match", "raw floor", "peer action.send")
    }
    matches: list[Any] = []
    per_rep_solo = max(2, mode.live_matches // mode.reps)
    per_rep_team = max(1, mode.live_team_matches // mode.reps)
    with raw_connection(prepare_threshold=5) as conn:
        for rep in range(mode.reps + 1):  # the first round warms up
            rate, made = _matches(solo, per_rep_solo, stamp)
            keep = rep > 0
            if keep:
                samples["solo match"].append(rate)
            matches += made
            rate, _ = _matches(teams, per_rep_team, stamp)
            if keep:
                samples["team match"].append(rate)
            rate = _floor(conn, [u.pk for u in live[:8]], mode.floor_events, rep)
            if keep:
                samples["raw floor"].append(rate)
            rate = _peer(matches[-per_rep_solo:], mode.floor_events)
            if keep:
                samples["peer action.send"].append(rate)
    for name, values in samples.items():
        result.figure(name, "events/s", values)
    for kind in ("solo match", "team match"):
        result.ratio(f"{kind} ÷ raw floor", ours=kind, other="raw floor", at_least=2)
        result.ratio(f"{kind} ÷ peer", ours=kind, other="peer action.send", at_least=1.5)
    result.notes.append(
        f"{per_rep_solo} solo and {per_rep_team} team match saves per repetition; "
        f"the floor and the peer write {mode.floor_events} events per repetition"
    )
    return result


def _solo_tournament(players: list[Any], stamp: datetime) -> tuple[Any, list[int]]:
    from esports.tournaments.models import Registration, Tournament

    tournament = Tournament.objects.create(
        name=f"Live solo {stamp:%H%M%S%f}", game="valorant", status="live", starts_at=stamp
    )
    regs = [
        Registration.objects.create(
            tournament=tournament, user=p, status="confirmed", checked_in=True
        ).pk
        for p in players
    ]
    return tournament, regs


def _team_tournament(players: list[Any], stamp: datetime) -> tuple[Any, list[int]]:
    from esports.teams.models import Team, TeamMembership
    from esports.tournaments.models import Registration, Tournament

    tournament = Tournament.objects.create(
        name=f"Live teams {stamp:%H%M%S%f}",
        game="valorant",
        status="live",
        starts_at=stamp,
        team_size=TEAM_SIZE,
    )
    regs = []
    joined = stamp - timedelta(days=1)
    for start in range(0, len(players), TEAM_SIZE):
        members = players[start : start + TEAM_SIZE]
        team = Team.objects.create(
            name=f"Bench team {start}", created_by=members[0], created_at=joined
        )
        for member in members[1:]:
            TeamMembership.objects.create(team=team, user=member, joined_at=joined)
        regs.append(
            Registration.objects.create(
                tournament=tournament, team=team, status="confirmed", checked_in=True
            ).pk
        )
    return tournament, regs


def _matches(setup: tuple[Any, list[int]], count: int, stamp: datetime) -> tuple[float, list[Any]]:
    """Save ``count`` decided matches as a view would (ids in, one create each); events/s."""
    from esports.tournaments.models import Match
    from ledger.models import UserActivity

    tournament, regs = setup
    before = UserActivity.objects.order_by("-id").values_list("id", flat=True).first() or 0
    made = []
    started = time.perf_counter()
    for i in range(count):
        a, b = regs[i % len(regs)], regs[(i + 1) % len(regs)]
        made.append(
            Match.objects.create(
                tournament_id=tournament.pk,
                round=1,
                participant1_id=a,
                participant2_id=b,
                state="completed",
                winner_id=a,
                completed_at=stamp,
            )
        )
    elapsed = time.perf_counter() - started
    events = UserActivity.objects.filter(id__gt=before).count()
    return events / elapsed, made


def floor_tables() -> None:
    """Fresh copies of the ledger's tables: columns, identity, defaults, checks, indexes (the
    partial unique one included) and the user foreign key; no trigger (it only refuses edits)."""
    like = "INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS INCLUDING INDEXES"
    with connection.cursor() as c:
        c.execute("DROP TABLE IF EXISTS bench_floor_activity, bench_floor_stats")
        c.execute(f"CREATE TABLE bench_floor_activity (LIKE ledger_useractivity {like})")
        c.execute(f"CREATE TABLE bench_floor_stats (LIKE ledger_userprofilestats {like})")
        c.execute(
            "ALTER TABLE bench_floor_activity ADD CONSTRAINT bench_floor_activity_user_fk "
            "FOREIGN KEY (user_id) REFERENCES auth_user (id)"
        )
        c.execute("INSERT INTO bench_floor_stats SELECT * FROM ledger_userprofilestats")


FLOOR_INSERT = (
    "INSERT INTO bench_floor_activity (user_id, event_type, timestamp, created_at, metadata, "
    "source_model, source_id, occurrence, amount) VALUES (%s, %s, %s, now(), %s, %s, %s, 0, 0)"
)
FLOOR_UPDATE = (
    "UPDATE bench_floor_stats SET matches_played = matches_played + 1, "
    "last_activity_at = greatest(last_activity_at, %s), stats_updated_at = now() "
    "WHERE user_id = %s"
)


def _floor(conn: Any, users: list[int], count: int, rep: int) -> float:
    """One event per transaction: INSERT, UPDATE its stats row, COMMIT; events/s."""
    at = datetime.now(UTC)
    metadata = json.dumps(
        {
            "tournament_id": 1,
            "tournament_name": "Live solo",
            "game": "valorant",
            "match_id": 1,
            "round": 1,
            "forfeit": False,
            "opponent": {"user_id": 1, "username": "bench1", "display_name": "Player 1"},
        }
    )
    started = time.perf_counter()
    for i in range(count):
        user = users[i % len(users)]
        with conn.transaction():
            conn.execute(
                FLOOR_INSERT, [user, "match_played", at, metadata, "bench.floor", rep * count + i]
            )
            conn.execute(FLOOR_UPDATE, [at, user])
    return count / (time.perf_counter() - started)


def _peer(matches: list[Any], count: int) -> float:
    """django-activity-stream: ``action.send`` per event (actor, verb, match, tournament)."""
    from actstream import action

    sides = []
    for match in matches:
        for reg in (match.participant1, match.participant2):
            sides.append((reg.user, match))
    started = time.perf_counter()
    for i in range(count):
        user, match = sides[i % len(sides)]
        action.send(user, verb="match_played", action_object=match, target=match.tournament)
    return count / (time.perf_counter() - started)
