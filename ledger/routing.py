"""Which database a read goes to: the primary, unless a replica is configured, the caller's scope
allows it and the read is one the selectors mark as safe to serve a little stale.

Two flags, both context variables (so they follow a request onto the threads its ORM calls run
on and never leak into another request):

- ``replica_read`` marks a selector's reads (feed, stats, history, leaderboards, periods): the
  read side decides *which* reads may lag;
- ``replica_reads_allowed`` opens a scope in which marked reads may go to the replica: the entry
  point decides *when* (the API, for a query by a viewer who has not just written). Writes,
  jobs, commands and subscriptions never open one, so they read the primary by default;
  ``primary_reads`` closes the scope explicitly where staleness would be a bug.

``ReadRouter`` combines them; it is installed only when ``DATABASE_REPLICA_URL`` is set, so
without a replica nothing here runs. docs/decisions/0019.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, router
from django.db.models import Model

REPLICA = "replica"
"""The alias of the read replica in ``DATABASES``."""

P = ParamSpec("P")
R = TypeVar("R")

_allowed: ContextVar[bool] = ContextVar("ledger_replica_reads_allowed", default=False)
_marked: ContextVar[bool] = ContextVar("ledger_replica_read", default=False)


def replica_read(selector: Callable[P, R]) -> Callable[P, R]:
    """Mark a selector whose reads may be served by the replica (when the caller allows it).

    The selector must evaluate its queries before it returns: a lazy QuerySet evaluated later
    is read from the primary."""

    @functools.wraps(selector)
    def read(*args: P.args, **kwargs: P.kwargs) -> R:
        token = _marked.set(True)
        try:
            return selector(*args, **kwargs)
        finally:
            _marked.reset(token)

    return read


@contextmanager
def replica_reads_allowed(allowed: bool = True) -> Iterator[None]:
    """Within this block, marked reads may (``allowed``) or may not go to the replica."""
    token = _allowed.set(allowed)
    try:
        yield
    finally:
        _allowed.reset(token)


def primary_reads() -> AbstractContextManager[None]:
    """A block whose reads all go to the primary, whatever scope encloses it."""
    return replica_reads_allowed(False)


def reading_from_replica() -> bool:
    """Whether a read made here would be sent to the replica (given one is configured)."""
    return _allowed.get() and _marked.get()


def replica_configured() -> bool:
    """A replica alias exists and this router is installed (``DATABASE_REPLICA_URL`` does both)."""
    return REPLICA in settings.DATABASES and any(
        isinstance(installed, ReadRouter) for installed in router.routers
    )


class ReadRouter:
    """Marked reads in an allowed scope to the replica; every write, and every other read, to
    the primary. The replica is never migrated (it replays the primary's schema)."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        return REPLICA if reading_from_replica() else DEFAULT_DB_ALIAS

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        # Explicit even for an instance read from the replica: Django would otherwise write
        # it back to the alias it came from.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # one database, two copies

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA
