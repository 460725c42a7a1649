"""Shared fixtures. Tests marked ``postgres`` run only when DATABASE_URL points at PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings


def on_postgresql() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") and not on_postgresql():
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://...")


@pytest.fixture(autouse=True)
def _forget_event_months() -> Any:
    """Tests migrate back and forth and detach months: each starts from what the database holds."""
    yield
    if on_postgresql():
        from django.db import connections

        from ledger.recorders.postgresql import PostgreSQLRecorder

        for connection in connections.all(initialized_only=True):
            PostgreSQLRecorder(connection).forget_event_months()


@pytest.fixture
def stats_of() -> Any:
    """Stored stats of a user as a dict of the fields recompute returns."""
    from ledger.models import UserProfileStats
    from ledger.projections import LIFETIME_STATS

    def read(user: Any) -> dict[str, Any]:
        row = UserProfileStats.objects.filter(user=user).values(*LIFETIME_STATS.fields).first()
        return row or {}

    return read
