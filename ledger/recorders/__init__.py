"""One recorder per database backend, behind one interface (``base.Recorder``), the way
pyeventsourcing keeps one recorder per persistence module.

``recorder()`` is the one place that asks which backend a connection is: the write path,
convergence, backfill and the erasure call the recorder's methods and never branch on it.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper

from ledger.recorders.base import Recorder
from ledger.recorders.portable import PortableRecorder
from ledger.recorders.postgresql import PostgreSQLRecorder

_BY_VENDOR: dict[str, type[Recorder]] = {
    "postgresql": PostgreSQLRecorder,
    "sqlite": PortableRecorder,
}


def recorder(connection: BaseDatabaseWrapper = default_connection) -> Recorder:
    """The recorder for ``connection`` (by default the thread's default connection)."""
    try:
        recorder_class = _BY_VENDOR[connection.vendor]
    except KeyError:
        raise ImproperlyConfigured(
            f"The ledger has no recorder for {connection.vendor!r}: use PostgreSQL or SQLite."
        ) from None
    return recorder_class(connection)


__all__ = ["Recorder", "recorder"]
