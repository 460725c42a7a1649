"""A uvicorn worker on the project, started as the Procfile starts a web process."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from tests.support import services

ROOT = Path(__file__).resolve().parents[2]


def start_uvicorn(
    env: Mapping[str, str], *, timeout: float = 30.0
) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``uvicorn config.asgi:application`` on a free port and wait until it listens; the
    caller stops the process (also when its test fails)."""
    port = services.free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--lifespan",
            "off",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise AssertionError("the worker exited at start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, port
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                process.wait(timeout=10)
                raise AssertionError("the worker did not start listening") from None
            time.sleep(0.1)
