"""The servers the HTTP benchmark loads: one uvicorn worker (the floor's or the project's, both
started as the Procfile starts a web process) and the whole of ``deploy/start``."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.api import ROOT, uvicorn_process
from tests.support.services import free_port

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


def _free_run(count: int) -> int:
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
    base = _free_run(web_processes)
    with tempfile.TemporaryDirectory(prefix="bench-http-deploy-") as scratch:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "PROMETHEUS_", "CELERY_", "REDIS_", "DATABASE_"))
        }
        env.update(
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            CELERY_BROKER_URL=redis_url,
            CHANNEL_LAYER_PREFIX=f"bench-http-{uuid.uuid4().hex[:8]}",
            METRICS_TOKEN=uuid.uuid4().hex,
            PROMETHEUS_MULTIPROC_DIR=str(Path(scratch) / "prometheus"),
            CELERY_BEAT_SCHEDULE_FILE=str(Path(scratch) / "celerybeat-schedule"),
            PORT=str(base),
            WEB_PROCESSES=str(web_processes),
        )
        log = Path(scratch) / "honcho.log"
        with log.open("wb") as out:
            honcho = subprocess.Popen(
                [str(ROOT / "deploy" / "start")],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
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
