"""Pages read by a statement prepared on its PostgreSQL connection, run with a generic plan.

On monthly partitions PostgreSQL plans a feed page over every month its bounds leave, about
0.05 ms a month, when the one table's whole page plans in 0.05 ms: planning was the difference
(docs/benchmarks.md). A prepared statement is planned once per connection, and with
``plan_cache_mode = force_generic_plan`` (config/settings.py) its plan is generic: over all the
months, the ones its parameters exclude pruned each time it runs.

A generic plan does not see the parameters' values, so it is chosen for an average user: on the
benchmark's data a deep page's was a sort of all the user's events below the cursor, which a
user with a long history would pay in full. So the LIMIT is a parameter too: not knowing it,
the planner costs plans for a tenth of their rows, and the ordered scans of the feed index that
stop after the page win over anything that reads every row and sorts (EXPLAIN tests).

Django binds parameters on the client and prepares nothing: only the statements run here are
prepared. psycopg names them, keeps up to 100 a connection and prepares one again after a
ROLLBACK or DDL on the connection made it forget them. Decision 0030."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import QuerySet

if TYPE_CHECKING:
    from django.db.backends.utils import _ExecuteParameters, _ExecuteQuery


class _PreparingCursor(psycopg.Cursor[Any]):
    """Binds parameters on the server and prepares every statement it runs."""

    def execute(
        self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: Any = None
    ) -> _PreparingCursor:
        super().execute(query, params, prepare=True, binary=binary)
        return self


class _PreparedDebugWrapper(CursorDebugWrapper):
    """Logs a prepared statement with its parameters composed in, as Django logs statements it
    binds on the server (psycopg keeps no text of a prepared statement's execution)."""

    def execute(self, sql: _ExecuteQuery, params: _ExecuteParameters | None = None) -> Any:
        with self.debug_sql(self.db.ops.compose_sql(sql, params), params):
            return CursorWrapper.execute(self, sql, params)


def prepared_values(queryset: QuerySet[Any], *, limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` rows of an ordered, unsliced ``values()`` queryset, as dicts, read by
    a statement prepared on the queryset's connection with ``limit`` one of its parameters."""
    query = queryset.query
    compiler = query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return []
    connection = connections[queryset.db]
    connection.ensure_connection()
    connection.validate_thread_sharing()
    # Django's wrapper, as its own cursors have: errors translated, execute wrappers, query log.
    wrapper = _PreparedDebugWrapper if connection.queries_logged else CursorWrapper
    with wrapper(_PreparingCursor(connection.connection), connection) as cursor:
        cursor.execute(f"{sql} LIMIT %s", (*params, limit))
        rows = cursor.fetchall()
    names = [*query.extra_select, *query.values_select, *query.annotation_select]
    return [dict(zip(names, row, strict=True)) for row in compiler.results_iter(results=[rows])]
