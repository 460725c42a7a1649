"""The benchmark harness runs end to end in quick mode on PostgreSQL and reports every scenario.

It runs ``python -m bench --quick --json`` in a child process against a database of its own
(``bench_<test db name>``, dropped afterwards), then checks the JSON: every scenario present,
every figure a positive finite number, every goal ratio computed, the dataset reconciled clean.
It checks that the harness measures, never how fast anything is (no wall-clock assertion).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from bench.run import SCENARIOS
from tests.support.processes import run_python
from tests.support.services import redis_url

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(240)]

GOALS = {
    "recording": 4,  # solo and team, each against the floor and the peer
    "backfill": 2,
    "feed": 5,  # first, deep ≤ 5x; deep ÷ first ≤ 1.2 (schema, HTTP); 10x faster than the peer
    "stats": 1,
    "following": 2,  # first and deep page ≤ 3x one player's feed page
}


def _server_url() -> tuple[str, str]:
    db = settings.DATABASES["default"]
    auth = str(db.get("USER") or "postgres") + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    base = f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    suffix = os.environ.get("DJANGO_TEST_DB_NAME") or f"pid{os.getpid()}"
    return base, f"bench_smoke_{suffix}".lower().replace("-", "_")[:60]


def test_quick_mode_reports_every_scenario_with_numbers(tmp_path: Path) -> None:
    base, name = _server_url()
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_TEST_DB_NAME"}
    env["BENCH_DATABASE_URL"] = f"{base}/{name}"
    env["BENCH_REDIS_URL"] = redis_url(13)  # the fan-out's channel layer (started as CI does)
    try:
        done = run_python(
            ["-m", "bench", "--quick", "--fresh", "--json", str(out)], env=env, timeout=200
        )
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    report = json.loads(out.read_text())
    assert report["mode"] == "quick"
    assert report["machine"]["nproc"] >= 1
    assert report["machine"]["postgresql"]
    assert set(report["scenarios"]) == set(SCENARIOS)
    for key, scenario in report["scenarios"].items():
        assert scenario["figures"], key
        for name_, figure in scenario["figures"].items():
            for stat in ("p50", "p95", "p99"):
                value = figure[stat]
                assert isinstance(value, float), (key, name_, stat)
                assert math.isfinite(value), (key, name_, stat)
                assert value > 0, (key, name_, stat)
            assert figure["p50"] <= figure["p95"] <= figure["p99"], (key, name_)
            assert figure["n"] >= 3, (key, name_)
        for ratio in scenario["ratios"]:
            assert math.isfinite(ratio["value"]), (key, ratio)
            assert ratio["value"] > 0, (key, ratio)
        with_goal = [r for r in scenario["ratios"] if r["goal"] is not None]
        assert len(with_goal) >= GOALS.get(key, 0), key
        assert all(isinstance(r["met"], bool) for r in with_goal), key
    # The dataset is the fold of its events: reconcile finds nothing to repair.
    assert "reconcile found 0 drifted" in " ".join(report["scenarios"]["reconcile"]["notes"])
    # Every subscriber got every measured event.
    assert " 0 deliveries missed" in " ".join(report["scenarios"]["fanout"]["notes"])
    assert "| feed | schema deep page ÷ raw keyset |" in done.stdout
