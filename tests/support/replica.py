"""A real streaming replica of the test database's PostgreSQL cluster, on this machine, as CI
can make one: a second Debian cluster whose data directory is a ``pg_basebackup`` of the primary.

``streaming_replica`` creates it, waits until it serves reads, and always stops and drops it
(even when the tests fail or setting up fails half way). It needs root (``pg_createcluster``,
``su postgres``), the postgresql-common tools and a primary on this machine; the replica tests
skip with the reason otherwise. Clusters are named ``dcreplica<N>`` on port 5440 + N.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

FIRST_PORT = 5440
PORTS = range(FIRST_PORT, FIRST_PORT + 10)
REPLICATION_RULE = "host replication all 127.0.0.1/32 trust"
WAIT = 60.0
"""Seconds the replica may take to start, or to replay what the primary wrote."""
BASE_BACKUP_ATTEMPTS = 3
TOOLS = ("pg_createcluster", "pg_ctlcluster", "pg_dropcluster", "pg_lsclusters", "pg_basebackup")


class ReplicaUnavailable(Exception):
    """Why no replica can be made here (the tests skip with this reason)."""


@dataclass(frozen=True)
class Replica:
    """A running streaming replica: where it listens, and the controls the tests need."""

    version: str
    name: str
    port: int
    primary: Mapping[str, Any]

    def connect(self) -> psycopg.Connection[Any]:
        return _connect(self.primary, port=self.port)

    def pause(self) -> None:
        """Stop replaying the primary's WAL (it is still received): the replica lags from now."""
        with self.connect() as replica:
            replica.execute("SELECT pg_wal_replay_pause()")
            _until(
                lambda: _one(replica, "SELECT pg_get_wal_replay_pause_state()") == "paused",
                "the replica to pause its replay",
            )

    def resume(self) -> None:
        with self.connect() as replica:
            replica.execute("SELECT pg_wal_replay_resume()")

    def catch_up(self) -> None:
        """Wait until the replica has replayed everything the primary has written so far."""
        with _connect(self.primary) as primary:
            target = _one(primary, "SELECT pg_current_wal_lsn()")
        with self.connect() as replica:
            _until(
                lambda: _one(replica, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", target),
                "the replica to replay the primary's writes",
            )


@contextlib.contextmanager
def streaming_replica(primary: Mapping[str, Any]) -> Iterator[Replica]:
    """A streaming replica of the cluster behind ``primary`` (a Django settings dict whose NAME
    is a database that exists), for the duration of the block."""
    _check_can_run(primary)
    with _connect(primary) as admin:
        version = str(int(_one(admin, "SHOW server_version_num")) // 10000)
        hba_file = Path(_one(admin, "SHOW hba_file"))
        _allow_local_replication(admin, hba_file)
    with _claim_port() as port:
        name = f"dcreplica{port - FIRST_PORT}"
        _run("pg_createcluster", version, name, "-p", str(port))
        try:  # from here on the cluster is ours: stop and drop it whatever happens
            config = Path("/etc/postgresql") / version / name
            shutil.copyfile(hba_file, config / "pg_hba.conf")
            shutil.chown(config / "pg_hba.conf", "postgres", "postgres")
            _base_backup(primary, _data_directory(version, name))
            _run("pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start")
            replica = Replica(version=version, name=name, port=port, primary=primary)
            _until(lambda: _serving(replica), "the replica to accept reads")
            yield replica
        finally:
            stop = ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "stop"]
            subprocess.run([*stop, "-m", "fast"], capture_output=True, check=False)
            subprocess.run(["pg_dropcluster", version, name], capture_output=True, check=False)


def _check_can_run(primary: Mapping[str, Any]) -> None:
    if not str(primary.get("ENGINE", "")).endswith("postgresql"):
        raise ReplicaUnavailable("needs PostgreSQL: run with DATABASE_URL=postgres://...")
    if os.geteuid() != 0:
        raise ReplicaUnavailable("needs root to create a PostgreSQL cluster (as CI runs)")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise ReplicaUnavailable(f"needs postgresql-common's tools: {', '.join(missing)}")
    if primary.get("HOST") not in ("127.0.0.1", "localhost"):
        raise ReplicaUnavailable("needs the primary on this machine (HOST 127.0.0.1)")


def _connect(settings: Mapping[str, Any], *, port: int | None = None) -> psycopg.Connection[Any]:
    return psycopg.connect(
        host="127.0.0.1",
        port=port or int(settings.get("PORT") or 5432),
        user=settings.get("USER") or "postgres",
        password=settings.get("PASSWORD") or None,
        dbname=settings["NAME"],
        autocommit=True,
        connect_timeout=5,
    )


def _one(connection: psycopg.Connection[Any], sql: str, *params: Any) -> Any:
    row = connection.execute(sql, params or None).fetchone()
    assert row is not None
    return row[0]


def _allow_local_replication(admin: psycopg.Connection[Any], hba_file: Path) -> None:
    """Put the replication rule first in the primary's pg_hba.conf (first match wins) and reload,
    unless it is there already."""
    lines = hba_file.read_text().splitlines()
    if any(line.split() == REPLICATION_RULE.split() for line in lines):
        return
    first_rule = next(
        (i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")),
        len(lines),
    )
    lines.insert(first_rule, REPLICATION_RULE)
    hba_file.write_text("\n".join(lines) + "\n")
    admin.execute("SELECT pg_reload_conf()")


@contextlib.contextmanager
def _claim_port() -> Iterator[int]:
    """The first port of ours that no other test run on this machine holds (an exclusive lock
    file per port, held while the replica lives) and on which there is neither a cluster (one
    left by a killed run) nor a listener."""
    listed = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True)
    taken = {int(fields[2]) for fields in map(str.split, listed.stdout.splitlines()) if fields}
    for port in PORTS:
        if port in taken:
            continue
        with open(Path(tempfile.gettempdir()) / f"dcreplica-{port}.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    continue
            yield port
            return
    raise ReplicaUnavailable(f"no free port in {PORTS.start}-{PORTS.stop - 1} for a replica")


def _data_directory(version: str, name: str) -> Path:
    listed = subprocess.run(
        ["pg_lsclusters", "-h", version, name], capture_output=True, text=True, check=True
    )
    return Path(listed.stdout.split()[5])


def _base_backup(primary: Mapping[str, Any], data: Path) -> None:
    """Replace ``data`` by the primary's cluster as of now, written by the postgres user into a
    directory it owns (mode 700), with what a standby needs to stream from it (-R); a fast
    checkpoint, so it does not wait for a spread one. Retried: a reload of pg_hba.conf takes
    effect asynchronously, and on a busy primary a checkpoint can end the backup's temporary
    slot (seen here once: "terminating process ... to release replication slot")."""
    command = " ".join(
        shlex.quote(part)
        for part in (
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.get("PORT") or 5432),
            "-U", str(primary.get("USER") or "postgres"), "-D", str(data),
            "-R", "-X", "stream", "-c", "fast",
        )
    )  # fmt: skip
    for attempt in range(BASE_BACKUP_ATTEMPTS):
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(mode=0o700)
        shutil.chown(data, "postgres", "postgres")
        done = subprocess.run(["su", "postgres", "-c", command], capture_output=True, text=True)
        if done.returncode == 0:
            return
        time.sleep(0.5 * (attempt + 1))
    raise RuntimeError(f"pg_basebackup failed: {done.stderr.strip()}")


def _serving(replica: Replica) -> bool:
    try:
        with replica.connect() as connection:
            return bool(_one(connection, "SELECT pg_is_in_recovery()"))
    except psycopg.OperationalError:
        return False


def _until(done: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {WAIT:.0f} s for {what}")
        time.sleep(0.05)


def _run(*command: str) -> None:
    done = subprocess.run(list(command), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
