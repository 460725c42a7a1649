"""Uvicorn workers on the project, started as the Procfile starts a web process, the whole of
``deploy/start``, and the GraphQL WebSocket client the live tests use: one starter for tests and
benchmarks alike."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO

from gql import Client
from gql.transport.websockets import WebsocketsTransport

from tests.support import services

ROOT = Path(__file__).resolve().parents[2]
WS_TIMEOUT = 30.0

PROCFILE_OPTIONS = ("--workers", "1", "--lifespan", "off", "--no-access-log")
"""What ``deploy/start`` passes to each web process besides its host and port."""


def server_environment(*, redis_db: int, prefix: str) -> dict[str, str]:
    """The environment of a server process on the test's PostgreSQL database: this process's
    own, Redis db ``redis_db`` under a channel-layer prefix of its own (``prefix-…``), and no
    connection kept between requests (the test database must drop at the end)."""
    from django.db import connection

    env = {k: v for k, v in os.environ.items() if k != "DJANGO_TEST_DB_NAME"}
    env.update(
        DATABASE_URL=services.postgres_url(connection.settings_dict),
        REDIS_URL=services.redis_url(redis_db),
        CHANNEL_LAYER_PREFIX=f"{prefix}-{uuid.uuid4().hex[:12]}",
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_CONN_MAX_AGE="0",
    )
    return env


def start_uvicorn(
    env: Mapping[str, str],
    *,
    app: str = "config.asgi:application",
    port: int | None = None,
    options: Sequence[str] = PROCFILE_OPTIONS,
    output: IO[bytes] | int | None = subprocess.DEVNULL,
    timeout: float = 30.0,
) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``uvicorn APP`` on ``port`` (a free one by default) and wait until it listens; the
    caller stops the process with ``stop`` (also when its test fails)."""
    port = port or services.free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", *options],
        cwd=ROOT,
        env=dict(env),
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise AssertionError(f"uvicorn {app} exited at start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, port
        except OSError:
            if time.monotonic() > deadline:
                stop([process])
                raise AssertionError(f"uvicorn {app} did not start listening") from None
            time.sleep(0.1)


def deploy_environment(
    *, database_url: str, redis_url: str, scratch: Path, port: int, web_processes: int, prefix: str
) -> dict[str, str]:
    """``deploy/start``'s environment as production sets it, on this database and Redis: none of
    this process's own settings, a channel-layer prefix of its own (``prefix-…``), the metrics
    directory (``scratch/prometheus``) and beat's schedule in ``scratch``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PROMETHEUS_", "CELERY_", "REDIS_", "DATABASE_", "PYTEST_"))
    }
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        CHANNEL_LAYER_PREFIX=f"{prefix}-{uuid.uuid4().hex[:10]}",
        PROMETHEUS_MULTIPROC_DIR=str(scratch / "prometheus"),
        CELERY_BEAT_SCHEDULE_FILE=str(scratch / "celerybeat-schedule"),
        PORT=str(port),
        WEB_PROCESSES=str(web_processes),
    )
    return env


def start_deploy(env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Run ``deploy/start`` (honcho and its processes) in a process group of its own, so that a
    last-resort kill reaches them all; its output goes to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(ROOT / "deploy" / "start")],
            cwd=ROOT,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(processes: Iterable[subprocess.Popen[bytes]], *, grace: float = 10.0) -> None:
    """Terminate every process, then kill whichever has not exited within ``grace`` seconds."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=grace)


def subscription_client(url: str, token: str) -> Client:
    """A graphql-transport-ws client authenticated by a bearer token in its init payload."""
    transport = WebsocketsTransport(
        url=url,
        init_payload={"Authorization": f"Bearer {token}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        connect_timeout=WS_TIMEOUT,
        close_timeout=5,
        ping_interval=None,
    )
    return Client(transport=transport, fetch_schema_from_transport=False)
