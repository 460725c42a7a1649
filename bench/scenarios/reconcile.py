"""5. Reconcile of all users (missing-event walk + drift check) and recompute of one heavy user.

No goal in the issue: each is shown next to the least a database must do for it, one grouped
aggregate over the same events in raw SQL (all users' events; one user's).
"""

from __future__ import annotations

from typing import Any

from bench.common import Mode, Result, raw_connection, timed
from bench.dataset import DatasetSize, first_user_id

AGGREGATE = (
    "SELECT user_id, event_type, count(*), sum(amount), max(timestamp) "
    "FROM ledger_useractivity {where} GROUP BY user_id, event_type"
)


def run(*, mode: Mode, size: DatasetSize) -> Result:
    from django.contrib.auth import get_user_model

    from ledger.operations.reconcile import reconcile_stats
    from ledger.services.stats import recompute_stats

    result = Result("reconcile")
    heavy = get_user_model().objects.get(pk=first_user_id())
    reps = 3 if mode.name == "quick" else 2
    ours, floor, drifted = [], [], 0
    with raw_connection(prepare_threshold=None) as conn:
        for _ in range(reps):
            seconds, report = timed(lambda: reconcile_stats())
            ours.append(seconds)
            drifted = len(report.drifted) + report.missing_events_total
            floor.append(timed(lambda: conn.execute(AGGREGATE.format(where="")).fetchall())[0])
        result.figure("reconcile all users", "s", ours)
        result.figure("raw grouped aggregate, all events", "s", floor)
        result.ratio(
            "reconcile all ÷ raw aggregate",
            ours="reconcile all users",
            other=("raw grouped aggregate, all events"),
        )
        result.notes.append(f"reconcile found {drifted} drifted users or missing events (want 0)")

        one, one_floor = [], []
        where = "WHERE user_id = %s"
        for _ in range(mode.reps * 3):
            one.append(timed(lambda: recompute_stats(heavy))[0])
            one_floor.append(
                timed(lambda: conn.execute(AGGREGATE.format(where=where), [heavy.pk]).fetchall())[0]
            )
    result.figure("recompute one heavy user", "ms", [s * 1000 for s in one])
    result.figure("raw grouped aggregate, one user", "ms", [s * 1000 for s in one_floor])
    result.ratio(
        "recompute heavy ÷ raw aggregate",
        ours="recompute one heavy user",
        other="raw grouped aggregate, one user",
    )
    events: Any = heavy.activities.count()
    result.notes.append(f"the heavy user has {events:,} events")
    return result
