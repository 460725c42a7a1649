"""``python -m bench --quick|--full [--json PATH] [--only NAME ...] [--fresh]``: one command.

It creates (or reuses, when the dataset fingerprint matches) a dedicated PostgreSQL database
named ``bench_*``, builds the dataset, runs every scenario, prints a Markdown table of the goal
ratios and writes every figure as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = (
    "recording",
    "backfill",
    "feed",
    "stats",
    "insights",
    "reconcile",
    "fanout",
    "archive",
    "following",
)
OPT_IN = ("http", "partitions")
"""Run only when named with --only: they take minutes (http needs wrk, bench/scenarios/http.py;
partitions builds two databases of its own, bench/scenarios/partitions.py)."""
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--quick", action="store_true", help="small dataset, under a minute")
    size.add_argument("--full", action="store_true", help="10,000 users, 1,000,000 events")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument(
        "--only", nargs="+", choices=SCENARIOS + OPT_IN, help="run only these scenarios"
    )
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the dataset")
    parser.add_argument(
        "--huge",
        action="store_true",
        help="partitions scenario: also build and read 10,000,000 events (minutes)",
    )
    args = parser.parse_args(argv)
    mode_name = "full" if args.full else "quick"

    url = os.environ.get("BENCH_DATABASE_URL") or f"{DEFAULT_SERVER}/bench_deltacrown_{mode_name}"
    name = urlsplit(url).path.lstrip("/")
    if not name.startswith("bench"):
        sys.exit(f"Refusing to use {name!r}: the benchmark database's name must start with bench.")
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("DATABASE_CONN_MAX_AGE", "600")
    sys.path.insert(0, str(ROOT))
    report = run(mode_name=mode_name, url=url, only=args.only, fresh=args.fresh, huge=args.huge)
    print(markdown(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
        print(f"\nJSON written to {args.json}")


def _ensure_database(url: str, *, fresh: bool) -> bool:
    """Create the database if missing (drop it first when ``fresh``); True if it was made new."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            return True
    return False


def run(
    *, mode_name: str, url: str, only: list[str] | None, fresh: bool, huge: bool = False
) -> dict[str, Any]:
    from dataclasses import replace

    from bench.common import FULL, QUICK

    mode = replace(FULL if mode_name == "full" else QUICK, huge=huge)
    made = _ensure_database(url, fresh=fresh)

    import django

    django.setup()
    from django.core.management import call_command

    from bench import dataset

    size = dataset.FULL_SIZE if mode_name == "full" else dataset.QUICK_SIZE
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    build: dict[str, Any] | None = None
    if made or dataset.stored_fingerprint() != size.fingerprint():
        if not made:  # a dataset of another size or version: start over
            from django.db import connection

            connection.close()
            _ensure_database(url, fresh=True)
            call_command("migrate", verbosity=0)
            dataset.stored_fingerprint()
        print(f"Building the {mode_name} dataset ({size.expected_events:,} events) ...")
        build = dataset.build(size)
    else:
        print(f"Reusing the {mode_name} dataset (fingerprint {size.fingerprint()}).")
    _register_peer()

    report: dict[str, Any] = {
        "mode": mode_name,
        "command": f"python -m bench --{mode_name}" + (" --huge" if huge else ""),
        "machine": machine(),
        "dataset": {**dataset_counts(), "size": size.__dict__, "built_now": build},
        "scenarios": {},
    }
    for key in only or SCENARIOS:
        print(f"- {key} ...", flush=True)
        module = __import__(f"bench.scenarios.{key}", fromlist=["run"])
        began = time.perf_counter()
        result = module.run(mode=mode, size=size)
        report["scenarios"][key] = {**result.as_dict(), "seconds": time.perf_counter() - began}
    report["seconds"] = time.perf_counter() - started
    return report


def _register_peer() -> None:
    from actstream import registry
    from django.contrib.auth import get_user_model

    from esports.tournaments.models import Match, Tournament

    for model in (get_user_model(), Match, Tournament):
        registry.register(model)


def dataset_counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as c:
        c.execute(
            "SELECT (SELECT count(*) FROM ledger_useractivity), (SELECT count(*) FROM auth_user),"
            " (SELECT count(*) FROM actstream_action)"
        )
        events, users, actions = c.fetchone()
    return {"events": events, "users": users, "peer_actions": actions}


def machine() -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SHOW server_version")
        server = c.fetchone()[0]
    memory = 0
    try:
        with open("/proc/meminfo") as meminfo:
            memory = int(meminfo.readline().split()[1]) // 1024
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "memory_mb": memory,
        "postgresql": server,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": os.getloadavg(),
    }


def markdown(report: dict[str, Any]) -> str:
    """The goal table: each ratio, its goal, and whether this run met it."""
    lines = [
        f"Mode {report['mode']}: {report['dataset']['events']:,} events, "
        f"{report['dataset']['users']:,} users; load average at start "
        f"{report['machine']['load_average'][0]:.2f} on {report['machine']['nproc']} cores.",
        "",
        "| scenario | ratio | ours (p50) | floor/peer (p50) | ratio | goal | met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, scenario in report["scenarios"].items():
        figures = scenario["figures"]
        for ratio in scenario["ratios"]:
            ours, other = figures[ratio["ours"]], figures[ratio["other"]]
            met = {True: "yes", False: "**no**", None: "-"}[ratio["met"]]
            lines.append(
                f"| {key} | {ratio['name']} | {_fmt(ours, ratio['key'])} | "
                f"{_fmt(other, ratio['key'])} | {ratio['value']:.2f} | {ratio['goal'] or '-'} "
                f"| {met} |"
            )
    lines += [
        "",
        "| scenario | figure | p50 | p95 | p99 | n |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for key, scenario in report["scenarios"].items():
        for name, fig in scenario["figures"].items():
            lines.append(
                f"| {key} | {name} ({fig['unit']}) | {_num(fig['p50'])} | {_num(fig['p95'])} "
                f"| {_num(fig['p99'])} | {int(fig['n'])} |"
            )
    notes = [f"- {key}: {note}" for key, s in report["scenarios"].items() for note in s["notes"]]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)


def _fmt(figure: dict[str, Any], key: str) -> str:
    return f"{_num(figure[key])} {figure['unit']}"


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"
