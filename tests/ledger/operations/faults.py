"""Faults injected into a backfill's batches: a kill, a deadlock, a lost server."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from typing import Any

import psycopg
import pytest
from django.db import OperationalError

from ledger.operations import backfill as backfill_module


def fail_batches(
    monkeypatch: pytest.MonkeyPatch,
    *,
    on: Collection[int] | Callable[[int], bool],
    error: Callable[[], BaseException],
) -> Counter[str]:
    """Make the backfill's n-th write of a batch (counting retries, from 1) raise ``error()`` for
    each n ``on`` holds; the others record as usual. Returns the live count of writes."""
    real = backfill_module.record_activity
    calls = Counter[str]()
    fails = on if callable(on) else on.__contains__

    def record_activity(**kwargs: Any) -> Any:
        calls["batches"] += 1
        if fails(calls["batches"]):
            raise error()
        return real(**kwargs)

    monkeypatch.setattr(backfill_module, "record_activity", record_activity)
    return calls


def killed() -> BaseException:
    return RuntimeError("killed")


def deadlock() -> OperationalError:
    """What Django raises when PostgreSQL aborts a transaction to break a deadlock."""
    error = OperationalError("deadlock detected")
    error.__cause__ = psycopg.errors.DeadlockDetected("deadlock detected")
    return error
