"""Partitioned events (issue 15, decision 0014) against the one table, in the same run:
``python -m bench --quick --only partitions [--huge]`` (``--full`` for the larger sizes).

Two databases get the same data (``bench/partitioned.py build``): users, synthetic events over
the 24 months up to now (a fourth of the users idle for the last 12) written with INSERT …
SELECT generate_series, and an esports history backfilled through the write path (timed). One is
migrated to the end (monthly partitions), the other back to the ledger migration before 0600 (one
table). Then rounds alternate between them (which goes first alternates too): a feed's first and
deep page through the selector (active users), a first page of idle users, and live recording (a
match's four events a transaction). Ratios: partitioned ÷ unpartitioned, goal "no worse" within
the noise of a shared machine (latency ≤ 1.10 times, throughput ≥ 0.90 times).

``--huge`` also builds a partitioned database of 10,000,000 events (100,000 users, 100 each) and
reads feed pages and stats there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.common import Mode, Result
from bench.dataset import DatasetSize

SIZES: dict[str, dict[str, int]] = {
    "quick": {"users": 1000, "per_user": 200, "history": 60, "matches": 150, "repeats": 60},
    "full": {"users": 5000, "per_user": 200, "history": 365, "matches": 400, "repeats": 200},
}
HUGE = {"users": 100_000, "per_user": 100, "repeats": 300}
DATABASES = {"unpartitioned": "flat", "partitioned": "monthly"}
"""Suffixes of the benchmark database's name: the scenario's own databases, made afresh."""


def run(*, mode: Mode, size: DatasetSize) -> Result:
    from bench.run import _ensure_database

    result = Result("partitions")
    params = SIZES[mode.name]
    urls = {kind: _url(name) for kind, name in DATABASES.items()}
    built: dict[str, dict[str, Any]] = {}
    for kind, url in urls.items():
        _ensure_database(url, fresh=True)
        flat = ["--flat"] if kind == "unpartitioned" else []
        built[kind] = _child(url, "build", *flat, *_args(params, "users", "per_user", "history"))
    samples: dict[str, dict[str, list[float]]] = {kind: defaultdict(list) for kind in urls}
    kinds = list(urls)
    for rep in range(mode.reps):
        for kind in kinds if rep % 2 == 0 else kinds[::-1]:
            measured = _child(
                urls[kind],
                "measure",
                "--seed",
                str(rep + 1),
                *_args(params, "per_user", "matches", "repeats"),
            )
            for name, values in measured.items():
                samples[kind][name] += values
    for kind in kinds:
        for name, values in samples[kind].items():
            unit = "events/s" if name == "recording" else "ms"
            result.figure(f"{name}, {kind}", unit, values)
        result.figure(f"backfill, {kind}", "events/s", [built[kind]["backfill_events_per_s"]])
    for name in ("feed first page", "feed deep page", "recording", "backfill"):
        throughput = name in ("recording", "backfill")  # events/s: no less; times: no more
        result.ratio(
            f"{name}: partitioned ÷ unpartitioned",
            ours=f"{name}, partitioned",
            other=f"{name}, unpartitioned",
            at_least=0.90 if throughput else None,
            at_most=None if throughput else 1.10,
        )
    result.ratio(
        "feed first page, idle a year: partitioned ÷ unpartitioned",
        ours="feed first page, idle a year, partitioned",
        other="feed first page, idle a year, unpartitioned",
    )
    for kind, figures in built.items():
        sizes = figures["bytes"]
        result.notes.append(
            f"{kind}: {figures['events']:,} events ({figures['backfill_events']:,} backfilled), "
            f"heap {sizes['heap'] / sizes['rows']:.0f} B/row, "
            f"indexes {sizes['indexes'] / sizes['rows']:.0f} B/row"
        )
    if mode.huge:
        _huge(result, _ensure_database)
    return result


def _huge(result: Result, ensure: Any) -> None:
    url = _url("huge")
    ensure(url, fresh=True)
    built = _child(url, "build", "--history", "0", *_args(HUGE, "users", "per_user"))
    read = _child(url, "huge", *_args(HUGE, "per_user", "repeats"))
    for name, values in read["samples"].items():
        result.figure(f"{name}, {built['events']:,} events", "ms", values)
    sizes = read["bytes"]
    result.notes.append(
        f"huge: {built['events']:,} events generated in {built['generated_seconds']:.0f} s; "
        f"heap {sizes['heap'] / 2**20:,.0f} MiB ({sizes['heap'] / sizes['rows']:.0f} B/row), "
        f"indexes {sizes['indexes'] / 2**20:,.0f} MiB ({sizes['indexes'] / sizes['rows']:.0f} "
        "B/row)"
    )


def _args(params: dict[str, int], *names: str) -> list[str]:
    return [arg for name in names for arg in (f"--{name.replace('_', '-')}", str(params[name]))]


def _url(suffix: str) -> str:
    """Another database on the benchmark's server, named after the benchmark's own."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"{parts.path}_partitions_{suffix}"))


def _child(url: str, *args: str) -> dict[str, Any]:
    """``bench/partitioned.py`` in its own process on ``url``; its last line of JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.partitioned", *args],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.partitioned {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    parsed: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return parsed
