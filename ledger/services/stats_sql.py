"""SQL shared by the stats fold's statements on every backend."""

from __future__ import annotations

from django.db import connection

from ledger.models import UserProfileStats
from ledger.models.stats import COUNTER_FIELDS


def upsert_columns() -> str:
    """The columns a stats upsert proposes: the user, every counter, the latest activity, now."""
    quote = connection.ops.quote_name
    counters = [quote(name) for name in COUNTER_FIELDS]
    return ", ".join(["user_id", *counters, quote("last_activity_at"), "stats_updated_at"])


def add_proposed_row() -> str:
    """The ``ON CONFLICT (user_id) DO UPDATE SET`` list of a stats upsert whose proposed row holds
    a batch's deltas: counters add up, the latest activity wins. The stored row is named by its
    table: PostgreSQL finds a bare column name ambiguous next to ``excluded``."""
    quote = connection.ops.quote_name
    table = quote(UserProfileStats._meta.db_table)
    names = [quote(name) for name in COUNTER_FIELDS]
    assignments = [f"{name} = {table}.{name} + excluded.{name}" for name in names]
    last = quote("last_activity_at")
    stored = f"{table}.{last}"
    assignments.append(
        f"{last} = CASE WHEN {stored} IS NULL OR {stored} < excluded.{last} "
        f"THEN excluded.{last} ELSE {stored} END"
    )
    assignments.append("stats_updated_at = excluded.stats_updated_at")
    return ", ".join(assignments)
