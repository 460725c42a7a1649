"""What every scenario shares: timing, percentiles, figures and goal ratios, raw connections."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.conf import settings


@dataclass(frozen=True)
class Mode:
    """How hard to push: repetitions and sizes of one run."""

    name: str
    reps: int
    latency_samples: int
    live_matches: int
    live_team_matches: int
    floor_events: int
    backfill_tournaments: int
    backfill_coins: int
    subscribers: int
    fanout_events: int
    huge: bool = False
    """``--huge``: the partitions scenario also reads a table of 10,000,000 events."""


QUICK = Mode(
    name="quick",
    reps=3,
    latency_samples=30,
    live_matches=30,
    live_team_matches=6,
    floor_events=120,
    backfill_tournaments=2,
    backfill_coins=600,
    subscribers=50,
    fanout_events=3,
)
FULL = Mode(
    name="full",
    reps=5,
    latency_samples=300,
    live_matches=200,
    live_team_matches=40,
    floor_events=800,
    backfill_tournaments=10,
    backfill_coins=12_000,
    subscribers=1000,
    fanout_events=10,
)


@dataclass
class Result:
    """One scenario's figures (medians and percentiles, by name) and the goals checked on them."""

    scenario: str
    figures: dict[str, dict[str, float]] = field(default_factory=dict)
    ratios: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def figure(self, name: str, unit: str, samples: list[float], **extra: float) -> None:
        self.figures[name] = {"unit": unit, **summary(samples), **extra}  # type: ignore[dict-item]

    def ratio(
        self,
        name: str,
        *,
        ours: str,
        other: str,
        key: str = "p50",
        at_least: float | None = None,
        at_most: float | None = None,
    ) -> float:
        """ours ÷ other on figure ``key``; the goal is the bound given, met when within it (None
        when there is none)."""
        value = self.figures[ours][key] / self.figures[other][key]
        goal: str | None = None
        met: bool | None = None
        if at_least is not None:
            goal, met = f"≥ {at_least:g}", value >= at_least
        if at_most is not None:
            goal, met = f"≤ {at_most:g}", value <= at_most
        self.ratios.append(
            {
                "name": name,
                "ours": ours,
                "other": other,
                "key": key,
                "value": round(value, 3),
                "goal": goal,
                "met": met,
            }
        )
        return value

    def floor(self, name: str, variants: tuple[str, ...]) -> None:
        """Figure ``name`` is the fastest (by median) of the raw ``variants``: the least a
        database must do, however the client sends it."""
        fastest = min(variants, key=lambda variant: self.figures[variant]["p50"])
        self.figures[name] = dict(self.figures[fastest])

    def as_dict(self) -> dict[str, Any]:
        return {"figures": self.figures, "ratios": self.ratios, "notes": self.notes}


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50": statistics.median(samples),
        "p95": percentile(samples, 95),
        "p99": percentile(samples, 99),
        "n": float(len(samples)),
    }


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def conninfo() -> str:
    """The benchmark database as a libpq connection string (the same one Django uses)."""
    db = settings.DATABASES["default"]
    parts = {
        "dbname": db["NAME"],
        "user": db.get("USER") or "postgres",
        "host": db.get("HOST") or "127.0.0.1",
        "port": db.get("PORT") or 5432,
    }
    if db.get("PASSWORD"):
        parts["password"] = db["PASSWORD"]
    return " ".join(f"{k}={v}" for k, v in parts.items())


@contextmanager
def raw_connection(
    *, prepare_threshold: int | None = 5, generic_plans: bool = False
) -> Iterator[psycopg.Connection[Any]]:
    """A plain psycopg connection (psycopg's default prepares after 5 executions);
    ``generic_plans``: PostgreSQL plans prepared statements once, ignoring parameter values."""
    options = "-c plan_cache_mode=force_generic_plan" if generic_plans else ""
    with psycopg.connect(conninfo(), prepare_threshold=prepare_threshold, options=options) as conn:
        yield conn
