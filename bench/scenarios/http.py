"""7. HTTP: the project's uvicorn worker next to a raw ASGI floor (``bench/http/floor.py``), under
closed-loop load from ``wrk``; then errors under concurrency, for one worker and for the whole
of ``deploy/start``. Not in the default run (it needs ``wrk`` and takes minutes):
``python -m bench --full --only http``.

- Side by side: rounds alternate floor, project, the project without its bearer fast path
  (``API_FAST_PATH=0``, decision 0032), floor, ... at 10 clients, stats then a feed page of 50,
  on the same database with the same bearer token and the same query; per round requests/s,
  p50/p99 and the server process's CPU per request (from /proc).
- Errors: 10, 50, 200 and 500 clients against one worker in the default production
  configuration, then against ``deploy/start``'s web processes (clients spread over them);
  every non-2xx response and every socket error (timeouts included) counts.
"""

from __future__ import annotations

import os
from pathlib import Path

from bench.common import Mode, Result
from bench.dataset import DatasetSize, first_user_id
from bench.http.load import ConnectionWatch, Round, request_script, run_wrk
from bench.http.servers import Server, deployment, uvicorn_worker
from bench.scenarios.stats import STATS

FEED = """query Feed($first: Int) {
  activityFeed(first: $first) {
    edges { cursor node { id eventType timestamp metadata sourceModel sourceId amount
      correctsId correctsEventType } }
    pageInfo { hasNextPage endCursor }
  }
}"""
CONCURRENCY = (10, 50, 200, 500)
SIDE_BY_SIDE_CLIENTS = 10
REDIS_DB = 13


def _settings(mode: Mode) -> tuple[int, float, float]:
    """Rounds per variant, seconds per side-by-side round, seconds per error round."""
    return (5, 10.0, 10.0) if mode.name == "full" else (2, 3.0, 3.0)


def run(*, mode: Mode, size: DatasetSize) -> Result:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from bench.common import conninfo
    from graphql_api.auth.tokens import issue_api_token

    result = Result("http")
    rounds, seconds, error_seconds = _settings(mode)
    heavy = get_user_model().objects.get(pk=first_user_id())
    player_id = first_user_id() + size.heavy_users + 1
    _, token = issue_api_token(user=heavy, name="bench http")
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    bodies = {
        "stats": {"query": STATS, "variables": {"userId": str(player_id)}},
        "feed": {"query": FEED, "variables": {"first": size.page_size}},
    }
    database_url = os.environ["DATABASE_URL"]
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        max_connections = int(cursor.fetchone()[0])

    with (
        uvicorn_worker("bench.http.floor:app", "/", FLOOR_DATABASE_URL=conninfo()) as floor,
        uvicorn_worker("config.asgi:application", "/graphql/") as project,
        uvicorn_worker("config.asgi:application", "/graphql/", API_FAST_PATH="0") as handler,
    ):
        for query, body in bodies.items():
            path = {"stats": "stats", "feed": "feed"}[query]
            floor_at = Server([f"{floor.urls[0]}{path}"], floor.pids)
            variants = (("floor", floor_at), ("project", project), ("handler path", handler))
            with request_script(body, headers) as script:
                for _, server in variants:
                    _warm(server, script)
                measured: dict[str, list[Round]] = {name: [] for name, _ in variants}
                for _ in range(rounds):
                    for name, server in variants:
                        measured[name].append(
                            run_wrk(
                                server.urls,
                                script,
                                clients=SIDE_BY_SIDE_CLIENTS,
                                seconds=seconds,
                                server_pids=server.pids,
                            )
                        )
            _side_by_side(result, query, measured)

    with (
        uvicorn_worker("config.asgi:application", "/graphql/") as project,
        request_script(bodies["stats"], headers) as script,
    ):
        _warm(project, script)
        _errors(result, "one worker", project, script, error_seconds)

    with (
        deployment(
            database_url=database_url,
            redis_url=os.environ.get("BENCH_REDIS_URL", f"redis://127.0.0.1:6379/{REDIS_DB}"),
            web_processes=3,
        ) as deployed,
        request_script(bodies["stats"], headers) as script,
    ):
        _warm(deployed, script)
        _errors(result, "deploy/start (3 web processes)", deployed, script, error_seconds)
    result.notes.append(
        f"PostgreSQL max_connections = {max_connections}; side by side: {rounds} rounds of "
        f"{seconds:.0f} s per variant at {SIDE_BY_SIDE_CLIENTS} clients, alternating; the "
        "project's worker runs the production defaults (DEBUG off, JSON request log, pool)"
    )
    return result


def _warm(server: Server, script: Path) -> None:
    run_wrk(server.urls, script, clients=2, seconds=1, server_pids=server.pids)


def _side_by_side(result: Result, query: str, measured: dict[str, list[Round]]) -> None:
    for name, runs in measured.items():
        result.figure(f"{query}: {name} throughput", "requests/s", [r.rps for r in runs])
        result.figure(
            f"{query}: {name} CPU per request", "ms", [r.cpu_ms_per_request for r in runs]
        )
        result.figure(f"{query}: {name} latency p50", "ms", [r.p50_ms for r in runs])
        result.figure(f"{query}: {name} latency p99", "ms", [r.p99_ms for r in runs])
        errors = sum(r.errors for r in runs)
        if errors:
            result.notes.append(f"{query}, {name}: {errors} errors in the side-by-side rounds")
    result.ratio(
        f"{query} throughput ÷ floor",
        ours=f"{query}: project throughput",
        other=f"{query}: floor throughput",
        at_least={"stats": 0.25, "feed": 0.20}[query],
    )
    result.ratio(
        f"{query} CPU per request ÷ floor",
        ours=f"{query}: project CPU per request",
        other=f"{query}: floor CPU per request",
        at_most=4 if query == "stats" else None,
    )
    result.ratio(
        f"{query} CPU per request, fast path ÷ handler path",
        ours=f"{query}: project CPU per request",
        other=f"{query}: handler path CPU per request",
    )
    result.ratio(
        f"{query} p50 latency ÷ floor",
        ours=f"{query}: project latency p50",
        other=f"{query}: floor latency p50",
    )


def _errors(result: Result, label: str, server: Server, script: Path, seconds: float) -> None:
    cells = []
    for clients in CONCURRENCY:
        with ConnectionWatch() as watch:
            done = run_wrk(
                server.urls,
                script,
                clients=clients,
                seconds=seconds,
                server_pids=server.pids,
            )
        cells.append(
            f"{clients} clients: {done.requests:,} requests, {done.non_2xx} non-2xx, "
            f"{done.socket_errors} socket errors, {done.rps:,.0f}/s, p99 {done.p99_ms:,.0f} ms, "
            f"at most {watch.most} connections to the database"
        )
    result.notes.append(f"errors, {label}: " + "; ".join(cells))
