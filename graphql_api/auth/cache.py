"""Bearer tokens already checked by this process: the viewer without a query per request.

A token's lookup (token row, its user) was a quarter of a worker's CPU per stats request (py-spy,
docs/benchmarks.md). Entries are keyed by the token's digest and hold a copy of the user row.

The bound, for a revoked token or a changed user (deactivated, made staff or not, deleted):

- on the process whose transaction changed it: refused from the commit on (evicted there, in
  the commit hook that announces the change);
- on every other web process: as soon as the channel layer delivers that announcement
  (``CREDENTIALS_BROADCAST``; a listener per process evicts the user's entries);
- in any case, however it changed (a lost message, an ``UPDATE`` in SQL, no channel layer):
  within ``API_TOKEN_CACHE_SECONDS`` (default 10), after which an entry is read again.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

logger = logging.getLogger("graphql_api.auth")

CREDENTIALS_BROADCAST = "ledger.credentials.all"
"""The group every web process's token cache listens on: ``{"user_id": N}`` evicts N's tokens."""

GROUP_REFRESH_SECONDS = 3600.0
"""Channel layers expire group membership (channels-redis: after a day): re-join hourly."""


@dataclass(slots=True)
class _Entry:
    user_id: Any
    row: _Row
    expires: float


@dataclass(frozen=True, slots=True)
class _Row:
    """A user row as read: each hit rebuilds a fresh instance from it (``Model.from_db``,
    about a quarter of ``copy.copy`` of a model instance: 14 against 52 µs measured here), so a
    request may cache relations on its user without another request seeing them."""

    model: Any
    db: str | None
    names: tuple[str, ...]
    values: tuple[Any, ...]

    @classmethod
    def of(cls, user: Any) -> _Row:
        names = tuple(field.attname for field in user._meta.concrete_fields)
        values = tuple(getattr(user, name) for name in names)
        return cls(model=type(user), db=user._state.db, names=names, values=values)

    def user(self) -> Any:
        return self.model.from_db(self.db, self.names, self.values)


class TokenCache:
    """An LRU of ``size`` digests, each trusted for ``ttl`` seconds; thread-safe (the event loop
    reads it, commit hooks on request threads evict)."""

    def __init__(
        self, *, size: int, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.size = size
        self.ttl = ttl
        self.clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._evictions = 0

    @property
    def enabled(self) -> bool:
        return self.size > 0 and self.ttl > 0

    def generation(self) -> int:
        """Take before reading the database; ``put`` refuses a row read before an eviction."""
        return self._evictions

    def get(self, digest: str) -> Any | None:
        """A private instance of the cached user (a request may cache relations on it), or None."""
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if entry.expires <= self.clock():
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
            row = entry.row
        return row.user()

    def put(self, digest: str, user: Any, *, generation: int) -> None:
        if not self.enabled:
            return
        with self._lock:
            if generation != self._evictions:  # something was revoked while we read: skip
                return
            self._entries[digest] = _Entry(user.pk, _Row.of(user), self.clock() + self.ttl)
            self._entries.move_to_end(digest)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def evict_user(self, user_id: int) -> None:
        with self._lock:
            self._evictions += 1
            for digest in [d for d, e in self._entries.items() if e.user_id == user_id]:
                del self._entries[digest]

    def clear(self) -> None:
        with self._lock:
            self._evictions += 1
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


tokens = TokenCache(
    size=int(getattr(settings, "API_TOKEN_CACHE_SIZE", 10_000)),
    ttl=float(getattr(settings, "API_TOKEN_CACHE_SECONDS", 10.0)),
)
"""This process's cache."""


def credentials_changed(user_id: int) -> None:
    """Called on commit by whatever changed a user's credentials: evict here at once."""
    tokens.evict_user(int(user_id))


class _Listener:
    """One task per event loop that evicts what other processes announce."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def ensure_started(self) -> None:
        if self._task is not None and not self._task.done():
            return
        if not tokens.enabled:
            return
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        if layer is None:
            return
        self._task = asyncio.get_running_loop().create_task(_listen(layer))


async def _listen(layer: Any) -> None:
    channel = await layer.new_channel("token-cache.")
    membership = asyncio.get_running_loop().create_task(_stay_joined(layer, channel))
    try:
        while True:
            try:
                message = await layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # the layer is down: the TTL still bounds every entry
                logger.warning("token cache lost the channel layer; retrying", exc_info=True)
                tokens.clear()
                await asyncio.sleep(1.0)
                continue
            user_id = message.get("user_id")
            if user_id is not None:
                tokens.evict_user(int(user_id))
    finally:
        membership.cancel()


async def _stay_joined(layer: Any, channel: str) -> None:
    while True:
        try:
            await layer.group_add(CREDENTIALS_BROADCAST, channel)
        except Exception:
            logger.warning("token cache could not join its group; retrying", exc_info=True)
            tokens.clear()
            await asyncio.sleep(1.0)
            continue
        await asyncio.sleep(GROUP_REFRESH_SECONDS)


listener = _Listener()
