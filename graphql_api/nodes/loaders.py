"""DataLoaders shared by every resolver of one operation: the objects behind a page load in one
query per kind, however many events the page holds (Saleor's pattern: one loader per class and
context, created on first use).

Loaders never cache across ticks (``cache=False``): a subscription's context lives as long as
its WebSocket, and an object read an hour ago must not be served as current. Within a tick every
``load`` joins one batch, which is what keeps the query count fixed.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, Self, TypeVar

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from strawberry.dataloader import DataLoader
from strawberry.types import Info

K = TypeVar("K")
V = TypeVar("V")

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

    Subclasses implement ``fetch``: one query for a batch of distinct keys (run on Django's
    thread; on a WebSocket with stale connections dropped first, as subscriptions read).
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
