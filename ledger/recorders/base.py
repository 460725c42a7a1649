"""The recorder interface, and the write path every backend runs: the event columns, how an
inserted row is told from another, and the statements that insert events and add a batch's
deltas to a projection's rows. A backend supplies how rows travel to them, and its locks."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from typing import Any, ClassVar, TypeVar

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Exists, OuterRef
from django.db.models.expressions import Expression
from django.utils import timezone

from ledger.drafts import InsertedEvent, NewEvent
from ledger.fold import Delta, Key
from ledger.models import ArchivedEvent, UserActivity
from ledger.models.activity import archived_event_removal
from ledger.projections import CounterProjection

M = TypeVar("M", bound=models.Model)

EVENT_COLUMNS: tuple[str, ...] = (
    "user_id",
    "event_type",
    "timestamp",
    "created_at",
    "metadata",
    "source_model",
    "source_id",
    "occurrence",
    "amount",
    "reverses_id",
)
"""The columns an insert writes, in the order of ``event_values``."""

RETURNED_COLUMNS: tuple[str, ...] = (
    "id",
    "source_model",
    "source_id",
    "event_type",
    "user_id",
    "occurrence",
    "reverses_id",
)
"""What an insert returns of each row it inserted: its id, then what ``identity`` reads."""

Identity = tuple[str, int, str, int, int]


def identity(
    source_model: str,
    source_id: int,
    event_type: str,
    user_id: int,
    occurrence: int,
    reverses_id: int | None,
) -> Identity:
    """What tells one inserted row from every other: a reversal by the event it cancels (an
    event is reversed at most once), any other event by its once-key (``ledger_activity_once``)."""
    return (
        source_model,
        source_id,
        event_type,
        user_id,
        reverses_id if reverses_id is not None else occurrence,
    )


def event_values(event: NewEvent, created_at: datetime) -> tuple[Any, ...]:
    """An event's values in ``EVENT_COLUMNS`` order."""
    return (
        event.user_id,
        event.event_type,
        event.timestamp,
        created_at,
        event.metadata,
        event.source_model,
        event.source_id,
        event.occurrence,
        event.amount,
        event.reverses_id,
    )


def later(stored: str, proposed: str) -> str:
    """SQL for the later of two timestamps, the stored one possibly NULL: the latest-activity
    column only ever moves forward (a backfilled event is historical, I7)."""
    return f"CASE WHEN {stored} IS NULL OR {stored} < {proposed} THEN {proposed} ELSE {stored} END"


class Recorder(ABC):
    """How one database backend appends events, folds them into the projections, and keeps
    writers in order. Every caller goes through this interface; none asks which backend it is.

    The write path: ``insert_new`` then ``apply`` (once per projection). Ordering against an
    erasure: ``hold_users`` and ``erasure_allowed``. Reading in batches: ``in_values``, and for
    the backfill ``can_read_ahead``, ``read_versioned`` and ``changed_since_read``. Months of
    events (what an archive takes whole): ``event_months``, ``make_event_months`` and
    ``detach_event_month``.
    """

    can_read_ahead: ClassVar[bool]
    """Whether another connection sees the rows this one sees once they are committed, so a
    backfill may read its next batch in a thread while it writes this one."""

    _statements: ClassVar[dict[tuple[type[Recorder], Hashable], str]] = {}

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self.quote = connection.ops.quote_name

    def statement(self, key: Hashable, build: Callable[[], str]) -> str:
        """SQL text built once per backend and ``key``: it depends on the tables and columns,
        never on the rows. Built for every batch, it doubled the Python work of a 4-event save
        (cProfile, 300 saves: 548,000 function calls; 255,000 with the text built once)."""
        cache_key = (type(self), key)
        text = self._statements.get(cache_key)
        if text is None:
            text = self._statements[cache_key] = build()
        return text

    # --- The write path ------------------------------------------------------------------------

    def insert_new(self, events: Sequence[NewEvent]) -> list[InsertedEvent]:
        """Insert the events not yet recorded, skipping the others (I2); return exactly those
        inserted, in the order given, a draft repeated in the batch once."""
        ids = {identity(*row[1:]): row[0] for row in self._insert(events, timezone.now())}
        inserted: list[InsertedEvent] = []
        for event in events:
            pk = ids.pop(
                identity(
                    event.source_model,
                    event.source_id,
                    event.event_type,
                    event.user_id,
                    event.occurrence,
                    event.reverses_id,
                ),
                None,
            )
            if pk is not None:
                inserted.append(InsertedEvent(pk, event))
        return inserted

    def apply(self, projection: CounterProjection, deltas: Mapping[Key, Delta]) -> None:
        """Add each key's deltas to its row, creating it on first need, with the rows locked in
        key order so that concurrent batches cannot deadlock on them.

        A batch that only adds (no reversal, no team left: all of a backfill) is one upsert. One
        that subtracts is two statements, because the database checks the counters' ``>= 0``
        constraints on the row an upsert proposes to insert before it finds the conflict: a
        negative delta would fail them even where the stored counter covers it."""
        if not deltas:
            return
        keys = sorted(deltas)
        now = timezone.now()
        if all(delta.adds_only for delta in deltas.values()):
            self._upsert(projection, [(key, deltas[key]) for key in keys], now)
        else:
            self._touch(projection, keys, now)
            self._add(projection, [(key, deltas[key]) for key in keys], now)

    def _insert(self, events: Sequence[NewEvent], created_at: datetime) -> list[tuple[Any, ...]]:
        """INSERT … ON CONFLICT DO NOTHING RETURNING ``RETURNED_COLUMNS`` of the inserted rows."""
        rows = [event_values(event, created_at) for event in events]
        return self._run("insert", UserActivity, EVENT_COLUMNS, rows, self._insert_sql)

    def _insert_sql(self, rows: str) -> str:
        return (
            f"INSERT INTO {self.table(UserActivity)} ({self.names(EVENT_COLUMNS)}) "
            f"SELECT {self.names(EVENT_COLUMNS, 'd.')} FROM {rows} WHERE true "
            f"ON CONFLICT DO NOTHING RETURNING {', '.join(RETURNED_COLUMNS)}"
        )

    def _upsert(
        self, projection: CounterProjection, rows: Sequence[tuple[Key, Delta]], now: datetime
    ) -> None:
        """Non-negative deltas: insert each row, or add to the stored one, in key order."""

        def build(source: str) -> str:
            adds = [*self.sum_into(projection, "excluded"), self.touched(projection)]
            return self._insert_in_key_order(projection, delta_columns(projection), adds, source)

        self._run_deltas("upsert", projection, rows, build, now)

    def _touch(self, projection: CounterProjection, keys: Sequence[Key], now: datetime) -> None:
        """Create the rows that do not exist and lock them all, in key order."""

        def build(source: str) -> str:
            touch = [self.touched(projection)]
            return self._insert_in_key_order(projection, projection.key, touch, source)

        self._run(("touch", projection), projection.model, projection.key, keys, build, [now])

    def _insert_in_key_order(
        self,
        projection: CounterProjection,
        columns: Sequence[str],
        on_conflict: list[str],
        rows: str,
    ) -> str:
        """Insert the rows' ``columns`` and the time of change, in key order (the order rows are
        locked in); set ``on_conflict`` where a row exists."""
        key = projection.key
        return (
            f"INSERT INTO {self.table(projection.model)} "
            f"({self.names([*columns, projection.touched])}) "
            f"SELECT {self.names(columns, 'd.')}, %s FROM {rows} WHERE true "
            f"ORDER BY {self.names(key, 'd.')} "
            f"ON CONFLICT ({self.names(key)}) DO UPDATE SET {', '.join(on_conflict)}"
        )

    def _add(
        self, projection: CounterProjection, rows: Sequence[tuple[Key, Delta]], now: datetime
    ) -> None:
        """Add the deltas to rows that exist (``_touch`` made sure of it)."""
        self._run_deltas("add", projection, rows, functools.partial(self._add_sql, projection), now)

    def _run_deltas(
        self,
        operation: str,
        projection: CounterProjection,
        rows: Sequence[tuple[Key, Delta]],
        build: Callable[[str], str],
        now: datetime,
    ) -> None:
        """Run ``build``'s statement over the rows' deltas, the time of change its first
        parameter."""
        values = [delta_values(projection, *row) for row in rows]
        model, columns = projection.model, delta_columns(projection)
        self._run((operation, projection), model, columns, values, build, [now])

    def _add_sql(self, projection: CounterProjection, rows: str) -> str:
        assignments = [*self.sum_into(projection, "d"), f"{self.quote(projection.touched)} = %s"]
        return (
            f"UPDATE {self.table(projection.model)} SET {', '.join(assignments)} "
            f"FROM {rows} WHERE {self.key_match(projection, 'd')}"
        )

    def _run(
        self,
        key: Hashable,
        model: type[models.Model],
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        build: Callable[[str], str],
        before: Sequence[Any] = (),
    ) -> list[tuple[Any, ...]]:
        """Run ``build``'s statement, given the backend's rows expression ``d``, over ``rows``
        (in chunks where the backend needs them), the parameters ``before`` first; return what
        the statements returned."""
        limit = self.rows_per_statement
        before = [self.param(value) for value in before]
        returned: list[tuple[Any, ...]] = []
        for start in range(0, len(rows), limit or max(len(rows), 1)):
            chunk = rows[start : start + limit] if limit else rows
            text = self.statement(
                (key, len(chunk) if limit else None),
                functools.partial(self._text, build, model, columns, len(chunk)),
            )
            with self.connection.cursor() as cursor:
                cursor.execute(text, [*before, *self.row_params(model, columns, chunk)])
                if cursor.description:
                    returned += cursor.fetchall()
        return returned

    def _text(
        self, build: Callable[[str], str], model: type[models.Model], columns: Sequence[str], n: int
    ) -> str:
        return build(self.rows(model, columns, n))

    # --- How rows travel: the one thing the write path leaves to each backend --------------------

    rows_per_statement: ClassVar[int | None]
    """Rows a statement may carry; None: any number, the rows being one parameter."""

    @abstractmethod
    def rows(self, model: type[models.Model], columns: Sequence[str], count: int) -> str:
        """A table expression ``d`` of ``count`` rows with these columns (and their types)."""

    @abstractmethod
    def row_params(
        self, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> list[Any]:
        """The parameters that fill ``rows(…)`` with these rows."""

    # --- Ordering against an erasure (decision 0006) -----------------------------------------

    @abstractmethod
    def hold_users(self, user_ids: Collection[int]) -> None:
        """Until the transaction ends, keep the users from being erased: an erasure waits for
        this save, or this save (called before it checks for erased users) waits for it."""

    @abstractmethod
    def erasure_allowed(self) -> AbstractContextManager[None]:
        """Open the database's own guard of the events (I4) for the audited erasure, inside its
        transaction."""

    # --- The archive (docs/decisions/0017) ------------------------------------------------------

    def keep_archived_keys(self, *, start: datetime, end: datetime) -> int:
        """Copy the once-keys of the hot events of [start, end) into ``ArchivedEvent``, in one
        INSERT … SELECT (one snapshot: what the archive of the month then takes); how many."""
        columns = [str(field.column) for field in ArchivedEvent._meta.concrete_fields]
        hot = (
            UserActivity.objects.filter(timestamp__gte=start, timestamp__lt=end)
            .order_by()
            .values_list(*columns)
        )
        select, params = hot.query.sql_with_params()
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {self.table(ArchivedEvent)} ({self.names(columns)}) {select}", params
            )
            return int(cursor.rowcount)

    def remove_archived(self, *, start: datetime, end: datetime) -> int:
        """Take out of the hot table the events of [start, end) that the archive has recorded
        (``ArchivedEvent``), in the archiving transaction; return how many. Only rows the archive
        holds go: an event recorded into the month while it was being written stays hot."""
        archived = ArchivedEvent.objects.filter(
            timestamp__gte=start, timestamp__lt=end, pk=OuterRef("pk")
        )
        rows = UserActivity.objects.filter(timestamp__gte=start, timestamp__lt=end).filter(
            Exists(archived)
        )
        with self.archive_removal_allowed(), archived_event_removal():
            return rows._raw_delete(self.connection.alias)

    @abstractmethod
    def archive_removal_allowed(self) -> AbstractContextManager[None]:
        """Open the database's own guard of the events (I4) for the archive's removal, inside
        its transaction."""

    # --- Reading in batches --------------------------------------------------------------------

    @abstractmethod
    def in_values(
        self, model: type[models.Model], field: str, values: Collection[Any]
    ) -> Expression | models.Q:
        """A filter for ``field IN values``; pass it to ``filter()`` as a positional argument."""

    @abstractmethod
    def read_versioned(self, queryset: models.QuerySet[M]) -> tuple[list[M], dict[int, str | None]]:
        """The rows, and each one's version by primary key (None where a backend keeps none)."""

    @abstractmethod
    def changed_since_read(
        self, model: type[models.Model], versions: Mapping[int, str | None]
    ) -> set[int]:
        """Lock the rows until the transaction ends, where the backend locks rows, and return
        those changed (or deleted) since they were read with ``read_versioned``."""

    # --- Months of events: PostgreSQL's partitions (decision 0014) ------------------------------

    @abstractmethod
    def event_months(self) -> list[date]:
        """The months the events table holds, as their first days (UTC), oldest first."""

    @abstractmethod
    def partition_months(self) -> list[date] | None:
        """The months of the events table's partitions as this process last saw them, oldest
        first, without a query; None where it is one table. A hint for reads that a month
        made or detached since may have made stale (decision 0026), never a promise."""

    @abstractmethod
    def make_event_months(self, months: Collection[date]) -> int:
        """Make sure these months (first days, UTC) can hold events; return how many were made."""

    @abstractmethod
    def detach_event_month(self, month: date) -> str:
        """Take a whole month out of the events table, in the caller's transaction, leaving its
        rows in a table of their own (the archive reads it, then drops it); return its name."""

    # --- SQL the backends share ----------------------------------------------------------------

    def table(self, model: type[models.Model]) -> str:
        return self.quote(model._meta.db_table)

    def sum_into(self, projection: CounterProjection, source: str) -> list[str]:
        """The SET list that adds ``source``'s counters to the stored row and keeps the later
        latest-activity: ``excluded`` for an upsert, a rows alias for an UPDATE … FROM. The
        stored row is named by its table: PostgreSQL finds a bare column ambiguous there."""
        table, quote = self.table(projection.model), self.quote
        assignments = [
            f"{quote(name)} = {table}.{quote(name)} + {source}.{quote(name)}"
            for name in projection.counters
        ]
        latest = quote(projection.latest)
        assignments.append(f"{latest} = {later(f'{table}.{latest}', f'{source}.{latest}')}")
        return assignments

    def param(self, value: Any) -> Any:
        """A parameter as the backend stores it (a timestamp as text on SQLite)."""
        if isinstance(value, datetime):
            return self.connection.ops.adapt_datetimefield_value(value)
        return value

    def fields(self, model: type[models.Model], columns: Sequence[str]) -> list[models.Field]:
        by_column = {field.column: field for field in model._meta.concrete_fields}
        return [by_column[name] for name in columns]

    def touched(self, projection: CounterProjection) -> str:
        """The upsert's SET of the time of change to the proposed row's."""
        touched = self.quote(projection.touched)
        return f"{touched} = excluded.{touched}"

    def names(self, columns: Sequence[str], prefix: str = "") -> str:
        return ", ".join(prefix + self.quote(name) for name in columns)

    def key_match(self, projection: CounterProjection, source: str) -> str:
        """``table.k = source.k AND …`` over the projection's key columns."""
        table, quote = self.table(projection.model), self.quote
        return " AND ".join(
            f"{table}.{quote(name)} = {source}.{quote(name)}" for name in projection.key
        )


def month_of(moment: datetime) -> date:
    """The month a moment falls in, as its first day in UTC: the month of its partition."""
    utc = moment.astimezone(UTC)
    return date(utc.year, utc.month, 1)


def delta_columns(projection: CounterProjection) -> list[str]:
    """The columns of ``delta_values``' rows."""
    return [*projection.key, *projection.fields]


def delta_values(projection: CounterProjection, key: Key, delta: Delta) -> list[Any]:
    """A projection row's proposed values: the key, every counter's delta, the latest timestamp."""
    return [*key, *(delta.counters[name] for name in projection.counters), delta.latest]
