"""The servers the HTTP benchmark loads: one uvicorn worker (the floor's or the project's, both
started as the Procfile starts a web process) and the whole of ``deploy/start``."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.api import uvicorn_process
from tests.support.servers import deploy_environment, start_deploy
from tests.support.services import free_ports

START_SECONDS = 60.0


@dataclass(frozen=True)
class Server:
    """Where to send requests, and whose CPU to count."""

    urls: list[str]
    pids: list[int]


@contextmanager
def uvicorn_worker(app: str, path: str, **env: str) -> Iterator[Server]:
    """``uvicorn APP`` as the Procfile starts a web process (``bench.api.uvicorn_process``)."""
    with uvicorn_process(app, **env) as (port, pid):
        yield Server(urls=[f"http://127.0.0.1:{port}{path}"], pids=[pid])


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def deployment(*, database_url: str, redis_url: str, web_processes: int) -> Iterator[Server]:
    """``deploy/start`` as production runs it (web processes, a Celery worker, beat), on the
    benchmark database, with a channel-layer prefix and metrics directory of its own."""
    base = free_ports(web_processes)
    with tempfile.TemporaryDirectory(prefix="bench-http-deploy-") as scratch:
        env = deploy_environment(
            database_url=database_url,
            redis_url=redis_url,
            scratch=Path(scratch),
            port=base,
            web_processes=web_processes,
            prefix="bench-http",
        )
        env["METRICS_TOKEN"] = uuid.uuid4().hex
        log = Path(scratch) / "honcho.log"
        honcho = start_deploy(env, log)
        ports = [base + n for n in range(web_processes)]
        try:
            deadline = time.monotonic() + START_SECONDS
            while not all(_ready(f"http://127.0.0.1:{p}/readyz") for p in ports):
                if honcho.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"deploy/start did not come up:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
            started = dict(re.findall(r"(web\.\d+) started \(pid=(\d+)\)", log.read_text()))
            pids = [int(started[f"web.{n + 1}"]) for n in range(web_processes)]
            yield Server(urls=[f"http://127.0.0.1:{p}/graphql/" for p in ports], pids=pids)
        finally:
            if honcho.poll() is None:
                honcho.send_signal(signal.SIGTERM)
                try:
                    honcho.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(honcho.pid, signal.SIGKILL)
                    honcho.wait(timeout=10)
