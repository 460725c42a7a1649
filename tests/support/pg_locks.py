"""Waiting, in a PostgreSQL test, until another thread's transaction waits on a lock."""

from __future__ import annotations

import threading
import time

from django.db import connection


def wait_until_blocked_on_a_lock(thread: threading.Thread, timeout: float = 10) -> None:
    """Until another backend of this database waits on a lock (or the thread has finished);
    fails the test if neither happens in time."""
    deadline = time.monotonic() + timeout
    while thread.is_alive() and time.monotonic() < deadline:
        with connection.cursor() as cursor:
            # Inside a transaction PostgreSQL shows pg_stat_activity as first read: clear that.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    assert not thread.is_alive(), "the thread neither finished nor waited on a lock"
