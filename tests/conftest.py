"""Shared fixtures. Tests marked ``postgres`` run only when DATABASE_URL points at PostgreSQL."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings

if TYPE_CHECKING:
    from tests.support.replica import Replica


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


@pytest.fixture(scope="session")
def streaming_replica(django_db_setup: None) -> Iterator[Replica]:
    """A real streaming replica of the test database's cluster, made once for the session after
    the test database exists (tests/support/replica.py), and the ``replica`` alias pointing at
    it; stopped and dropped at the end.

    The alias is a test mirror of ``default`` (Django creates nothing for it). It exists from
    here to the end of the session, so that a test can name it in ``django_db(databases=...)``
    (Django checks that list when the test begins); without the router (``replica_db``) no read
    goes to it."""
    from django.db import connections
    from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQLWrapper

    from ledger.routing import REPLICA
    from tests.support.replica import ReplicaUnavailable, streaming_replica

    primary = connections["default"].settings_dict
    try:
        replica = streaming_replica(primary)
        running = replica.__enter__()
    except ReplicaUnavailable as reason:
        pytest.skip(str(reason))
    alias: Any = copy.deepcopy(primary)
    alias["PORT"] = str(running.port)
    alias["TEST"] = {**alias["TEST"], "MIRROR": "default"}
    settings.DATABASES[REPLICA] = alias
    try:
        yield running
    finally:
        wrapper = connections[REPLICA]
        wrapper.close()
        if isinstance(wrapper, PostgreSQLWrapper):
            wrapper.close_pool()
        del connections[REPLICA]
        del settings.DATABASES[REPLICA]
        replica.__exit__(None, None, None)


REPLICA_TEST = pytest.mark.django_db(transaction=True, databases=["default", "replica"])
"""The marker of a test on the replica: what it writes commits, so the replica can replay it."""


@pytest.fixture
def replica_db(streaming_replica: Replica, settings: Any) -> Iterator[Replica]:
    """The read router installed for one test (mark the test ``REPLICA_TEST``); afterwards the
    replica connections the test opened, on its thread and Django's async thread, are closed."""
    from asgiref.sync import SyncToAsync
    from django.db import connections

    from ledger.routing import REPLICA

    settings.DATABASE_ROUTERS = ["ledger.routing.ReadRouter"]

    def close() -> None:
        connections[REPLICA].close()

    try:
        yield streaming_replica
    finally:
        SyncToAsync.single_thread_executor.submit(close).result(timeout=10)
        close()
