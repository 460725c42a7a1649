"""The read router's decisions, and the settings that install it: on any backend, without a
replica (tests/graphql_api/test_replica_reads.py runs them against a real one)."""

from __future__ import annotations

import json
import os

import pytest
from django.db import DEFAULT_DB_ALIAS, router

from ledger.models import UserActivity, UserProfileStats
from ledger.routing import (
    REPLICA,
    ReadRouter,
    primary_reads,
    reading_from_replica,
    replica_configured,
    replica_read,
    replica_reads_allowed,
)
from tests.support.processes import run_python

ROUTER = ReadRouter()


@replica_read
def marked_read() -> str:
    return ROUTER.db_for_read(UserActivity)


def unmarked_read() -> str:
    return ROUTER.db_for_read(UserActivity)


def test_a_read_goes_to_the_replica_only_when_marked_and_allowed():
    assert (marked_read(), unmarked_read()) == (DEFAULT_DB_ALIAS, DEFAULT_DB_ALIAS)
    with replica_reads_allowed():
        assert (marked_read(), unmarked_read()) == (REPLICA, DEFAULT_DB_ALIAS)
        with primary_reads():
            assert marked_read() == DEFAULT_DB_ALIAS
        assert marked_read() == REPLICA
    assert marked_read() == DEFAULT_DB_ALIAS


def test_writes_and_migrations_never_go_to_the_replica():
    @replica_read
    def write_alias() -> str:
        return ROUTER.db_for_write(UserProfileStats)

    with replica_reads_allowed():
        assert write_alias() == DEFAULT_DB_ALIAS
    assert (ROUTER.allow_migrate(REPLICA, "ledger"), ROUTER.allow_migrate("default", "ledger")) == (
        False,
        True,
    )


def test_a_failing_selector_leaves_no_mark_behind():
    @replica_read
    def failing() -> None:
        raise LookupError("boom")

    with replica_reads_allowed():
        with pytest.raises(LookupError):
            failing()
        assert reading_from_replica() is False


def test_without_the_router_nothing_reads_the_replica(settings):
    """Without DATABASE_REPLICA_URL: no router, Django's own routing (nothing changes)."""
    assert (settings.DATABASE_ROUTERS, replica_configured()) == ([], False)
    with replica_reads_allowed():
        assert replica_read(lambda: router.db_for_read(UserActivity))() == DEFAULT_DB_ALIAS


def settings_with(**env: str) -> dict[str, object]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "READ_YOUR"))}
    script = (
        "import json; from config import settings as s; "
        "print(json.dumps({'replica': s.DATABASES.get('replica'), "
        "'routers': getattr(s, 'DATABASE_ROUTERS', []), "
        "'pool': s.DATABASES['default'].get('OPTIONS', {}).get('pool'), "
        "'seconds': s.READ_YOUR_WRITES_SECONDS}))"
    )
    done = run_python(["-c", script], env={**base, **env}, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1]}
    loaded: dict[str, object] = json.loads(done.stdout)
    return loaded


def test_database_replica_url_adds_a_mirrored_alias_with_the_primarys_pool_and_the_router():
    found = settings_with(
        DATABASE_URL="postgres://ledger@db.internal:5432/ledger",
        DATABASE_REPLICA_URL="postgres://reader:secret@replica.internal:5433/ledger",
    )
    replica = found["replica"]
    assert isinstance(replica, dict)
    assert (replica["HOST"], replica["PORT"], replica["USER"], replica["NAME"]) == (
        "replica.internal",
        5433,
        "reader",
        "ledger",
    )
    assert replica["TEST"] == {"MIRROR": "default"}
    assert replica["OPTIONS"]["pool"] == found["pool"]
    assert (replica["CONN_MAX_AGE"], found["routers"]) == (0, ["ledger.routing.ReadRouter"])
    assert found["seconds"] == 10


def test_without_database_replica_url_there_is_no_replica_alias():
    found = settings_with(DATABASE_URL="postgres://ledger@db.internal:5432/ledger")
    assert (found["replica"], found["routers"]) == (None, [])


@pytest.mark.parametrize("seconds", ["0", "301"])
def test_the_read_your_writes_window_is_bounded(seconds):
    found = settings_with(READ_YOUR_WRITES_SECONDS=seconds)
    assert found == {
        "error": "django.core.exceptions.ImproperlyConfigured: "
        "READ_YOUR_WRITES_SECONDS must be between 1 and 300."
    }
