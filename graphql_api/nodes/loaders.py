"""DataLoaders shared by every resolver of one operation: the objects behind a page load in one
query per kind, however many events the page holds (Saleor's pattern: one loader per class and
context, created on first use).

Loaders never cache across ticks (``cache=False``): a subscription's context lives as long as
its WebSocket, and an object read an hour ago must not be served as current. Within a tick every
``load`` joins one batch, which is what keeps the query count fixed.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Self, TypeVar

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from strawberry.dataloader import DataLoader
from strawberry.types import Info

K = TypeVar("K")
V = TypeVar("V")
M = TypeVar("M", bound=Model)

_stores: dict[int, dict[type[Any], Any]] = {}


def _store(context: Any) -> dict[type[Any], Any]:
    """The loaders of one context (a request, or a WebSocket connection), dropped with it."""
    key = id(context)
    store = _stores.get(key)
    if store is None:
        store = _stores[key] = {}
        weakref.finalize(context, _stores.pop, key, None)
    return store


def thread_of(info: Info) -> Callable[..., Callable[..., Awaitable[Any]]]:
    """How this operation runs ORM code: on Django's thread; on a WebSocket (its context has
    the consumer, ``ws``) dropping a stale connection first, as subscriptions read, since no
    request cycle recycles it."""
    on_websocket = getattr(info.context, "ws", None) is not None
    return database_sync_to_async if on_websocket else sync_to_async


class ContextLoader(DataLoader[K, V | None], Generic[K, V]):
    """Loads values by key in batches; ``None`` for a key with no value.

    Subclasses implement ``fetch``: one query for a batch of distinct keys, run on Django's
    thread (``thread_of``). It is a classmethod: code already on that thread reads a batch with
    it directly (``activity/links.py`` reads a page's links in the page's own trip).
    """

    def __init__(self, run: Callable[..., Callable[..., Awaitable[Any]]]) -> None:
        super().__init__(load_fn=self._load, cache=False)
        self._run = run

    @classmethod
    def of(cls, info: Info) -> Self:
        store = _store(info.context)
        loader = store.get(cls)
        if loader is None:
            loader = store[cls] = cls(thread_of(info))
        return loader

    async def _load(self, keys: list[K]) -> list[V | None]:
        found = await self._run(self.fetch)(list(dict.fromkeys(keys)))
        return [found.get(key) for key in keys]

    @classmethod
    def fetch(cls, keys: list[K]) -> Mapping[K, V]:
        raise NotImplementedError


class CompiledBatch(Generic[M]):
    """``queryset.filter(pk__in=keys)`` as ``{pk: instance}``, its SQL compiled once per database
    and number of keys.

    Django compiles a query on every run; for the few objects of one kind behind a page that
    cost more than running it (measured in bench/, the typed page: a page's two opponents took
    0.66 ms of CPU through the ORM and 0.22 ms so; its 25 matches and their tournaments 1.06 ms
    and 0.88 ms). Rows become instances as Django's own ``ModelIterable`` makes them: converters,
    ``from_db`` and ``select_related`` populators.
    """

    def __init__(self, queryset: QuerySet[M]) -> None:
        self.queryset = queryset
        self._compiled: dict[tuple[str, int], _Compiled] = {}

    def __call__(self, keys: Sequence[int]) -> dict[int, M]:
        if not keys:
            return {}
        db = self.queryset.db
        compiled = self._compiled.get((db, len(keys)))
        if compiled is None:
            compiled = self._compiled[(db, len(keys))] = _compile(self.queryset, len(keys))
        with connections[db].cursor() as cursor:
            cursor.execute(compiled.sql, list(keys))
            rows = cursor.fetchall()
        found: dict[int, M] = {}
        for row in compiled.compiler.results_iter([rows]):
            obj = compiled.model.from_db(db, compiled.init_list, row[compiled.start : compiled.end])
            for populator in compiled.populators:
                populator.populate(row, obj)
            found[obj.pk] = obj  # type: ignore[assignment]  # from_db of the queryset's model
        return found


class InstancesById(ContextLoader[int, M]):
    """Model instances by primary key: a subclass sets ``instances``, its queryset compiled."""

    instances: ClassVar[CompiledBatch[Any]]

    @classmethod
    def fetch(cls, keys: list[int]) -> Mapping[int, M]:
        return cls.instances(keys)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    compiler: Any
    model: type[Model]
    init_list: list[str]
    start: int
    end: int
    populators: list[Any]


def _compile(queryset: QuerySet[Any], size: int) -> _Compiled:
    placeholders = list(range(1, size + 1))
    query = queryset.filter(pk__in=placeholders).query
    compiler = query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    if list(params) != placeholders:  # the keys must be the query's only parameters, in order
        raise ValueError(f"{queryset!r} has parameters of its own: batch it with the ORM")
    klass_info = compiler.klass_info
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    return _Compiled(
        sql=sql,
        compiler=compiler,
        model=klass_info["model"],
        init_list=[column[0].target.attname for column in compiler.select[start:end]],
        start=start,
        end=end,
        # Django 5.2's signature; the stubs already describe 6.0's (a fetch mode is added).
        populators=get_related_populators(  # type: ignore[call-arg]
            klass_info, compiler.select, queryset.db
        ),
    )
