"""Real services for end-to-end tests: Redis (started as CI does), free ports, database URLs."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Mapping
from typing import Any

import pytest

REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
    "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
    "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip


def _redis_alive() -> bool:
    import redis

    try:
        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def redis_url(db: int) -> str:
    """Redis on 127.0.0.1:6379, db ``db``: found, or started here; the test skips if neither."""
    if not _redis_alive():
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run(REDIS_START, check=False, timeout=20)
        deadline = time.monotonic() + 10
        while not _redis_alive() and time.monotonic() < deadline:
            time.sleep(0.2)
    if not _redis_alive():
        pytest.skip("needs Redis on 127.0.0.1:6379 (redis-server not found or would not start)")
    return f"redis://127.0.0.1:6379/{db}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_ports(count: int) -> int:
    """A port with ``count`` free ports from it on (honcho gives web.N the port base + N - 1)."""
    for _ in range(50):
        base = free_port()
        if base + count >= 65000:
            continue
        try:
            for port in range(base, base + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no run of free ports")


def postgres_url(settings_dict: Mapping[str, Any], name: str | None = None) -> str:
    """A DATABASE_URL for a server subprocess: the test's own database unless ``name`` is given."""
    auth = settings_dict["USER"] + (
        f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    )
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{name or settings_dict['NAME']}"
