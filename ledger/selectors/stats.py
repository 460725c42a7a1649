"""A user's lifetime stats, with the rates derived from them (never stored)."""

from __future__ import annotations

import functools
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, connections, router
from django.db.models import Field
from django.db.models.options import Options
from django.utils.dateparse import parse_datetime

from ledger.models import UserProfileStats
from ledger.projections import LIFETIME_STATS
from ledger.routing import primary_reads, reading_from_replica, replica_read

StatsRow = dict[str, Any]
"""Each of ``LIFETIME_STATS.fields``, and win_rate, tournament_win_rate and net_earnings."""


@replica_read
def user_stats(*, user_id: int) -> StatsRow:
    """A user's stats by primary key, with the derived rates; a user without a row reads zeros."""
    row = UserProfileStats.objects.filter(user_id=user_id).values(*LIFETIME_STATS.fields).first()
    return with_derived(row or _zeros())


@replica_read
def stats_by_user(*, user_ids: Collection[int]) -> dict[int, StatsRow]:
    """``user_stats`` of many users in one query (a page of players): zeros where no row."""
    rows = UserProfileStats.objects.filter(user_id__in=list(user_ids)).values(
        "user_id", *LIFETIME_STATS.fields
    )
    found = {row.pop("user_id"): with_derived(row) for row in rows}
    return {user_id: found.get(user_id) or with_derived(_zeros()) for user_id in user_ids}


@replica_read
def existing_user_stats(*, user_id: int) -> StatsRow | None:
    """``user_stats`` of a user who exists, else None, in one round trip: the user LEFT JOIN
    their stats row, as fixed SQL built once. Measured in bench/: the two ORM queries this
    replaces (subject, then stats) were most of a stats lookup's cost next to the PK SELECT,
    and compiling a query costs more than running it. A user the replica does not know (yet:
    one who registered within its lag) is looked up again on the primary."""
    row = _user_and_stats(user_id)
    if row is None and reading_from_replica():
        with primary_reads():
            row = _user_and_stats(user_id)
    if row is None:
        return None
    _, has_row, *columns = row
    if has_row is None:  # no stats row yet
        return with_derived(_zeros())
    values = dict(zip(LIFETIME_STATS.fields, columns, strict=True))
    values["last_activity_at"] = _aware(values["last_activity_at"])
    return with_derived(values)


def _user_and_stats(user_id: int) -> tuple[Any, ...] | None:
    with connections[router.db_for_read(UserProfileStats)].cursor() as cursor:
        cursor.execute(_existing_user_stats_sql(), [user_id])
        row: tuple[Any, ...] | None = cursor.fetchone()
    return row


def with_derived(values: dict[str, Any]) -> StatsRow:
    """Add win_rate, tournament_win_rate and net_earnings: computed, never stored."""
    values["win_rate"] = ratio(values["matches_won"], values["matches_played"])
    values["tournament_win_rate"] = ratio(values["tournaments_won"], values["tournaments_played"])
    values["net_earnings"] = values["total_earned"] - values["total_spent"]
    return values


def ratio(part: int, whole: int) -> float:
    """``part / whole``, 0 where there is no whole."""
    return part / whole if whole > 0 else 0.0


def _zeros() -> dict[str, Any]:
    return {**dict.fromkeys(LIFETIME_STATS.counters, 0), LIFETIME_STATS.latest: None}


@functools.cache
def _existing_user_stats_sql() -> str:
    quote = connection.ops.quote_name
    users = get_user_model()._meta
    stats = UserProfileStats._meta
    columns = ", ".join(f"s.{quote(column(stats, name))}" for name in LIFETIME_STATS.fields)
    user_pk = f"u.{quote(column(users, users.pk.name))}"
    stats_pk = f"s.{quote(column(stats, 'user'))}"
    return (
        f"SELECT {user_pk}, {stats_pk}, {columns} "
        f"FROM {quote(users.db_table)} u LEFT JOIN {quote(stats.db_table)} s "
        f"ON {stats_pk} = {user_pk} WHERE {user_pk} = %s"
    )


def column(meta: Options[Any], name: str) -> str:
    """The database column of a model's field (for fixed SQL)."""
    field = meta.get_field(name)
    assert isinstance(field, Field)
    return str(field.column)


def _aware(value: Any) -> datetime | None:
    """A raw cursor's timestamp: aware on PostgreSQL; naive UTC (or ISO text) on SQLite."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else parse_datetime(str(value))
    if parsed is None:
        raise ValueError(f"not a timestamp: {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
