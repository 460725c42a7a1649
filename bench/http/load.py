"""Closed-loop load with ``wrk`` and the servers' CPU from /proc.

``wrk`` (Debian's package; installed here when missing, as the browser tests install chromium)
keeps N connections busy, one request in flight each, and reports requests/s, latency
percentiles, non-2xx responses and socket errors; it costs little CPU on the client side, which
matters on a 2-core machine. Server CPU is utime + stime of the server process(es), read from
``/proc/<pid>/stat`` before and after each round, divided by the requests of the round.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WRK_TIMEOUT_SECONDS = 30
"""A request slower than this counts as a socket error (a timeout): queueing up to the
admission bound's wait is not an error, failing is."""


@dataclass(frozen=True)
class Round:
    """One wrk run against one server."""

    clients: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    cpu_ms: float

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu_ms / self.requests if self.requests else float("inf")

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True, timeout=600
    )
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and apt-get could not install it")
    return found


@contextmanager
def request_script(body: dict[str, Any], headers: dict[str, str]) -> Iterator[Path]:
    """A wrk Lua script that POSTs ``body`` as JSON with ``headers``."""
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua(json.dumps(body))}"]
    lines += [f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in headers.items()]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    try:
        yield Path(script.name)
    finally:
        os.unlink(script.name)


def _lua(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal here


def cpu_ticks(pids: list[int]) -> int:
    """utime + stime of these processes and their children that were waited for."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total


class ConnectionWatch:
    """The most connections to the benchmark database seen while the block runs (its own
    sampling connection not counted), sampled every 0.1 s."""

    def __init__(self) -> None:
        self.most = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> ConnectionWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _sample(self) -> None:
        import psycopg

        from bench.common import conninfo

        with psycopg.connect(conninfo(), autocommit=True) as conn:
            while not self._stop.is_set():
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchone()
                self.most = max(self.most, int(row[0]) if row else 0)
                self._stop.wait(0.1)


def run_wrk(
    urls: list[str], script: Path, *, clients: int, seconds: float, server_pids: list[int]
) -> Round:
    """``clients`` connections spread over ``urls`` (one wrk per URL, all at once)."""
    wrk = ensure_wrk()
    shares = [
        clients // len(urls) + (1 if i < clients % len(urls) else 0) for i in range(len(urls))
    ]
    before = cpu_ticks(server_pids)
    runs = [
        subprocess.Popen(
            [
                wrk,
                "-t1",
                f"-c{share}",
                f"-d{round(seconds)}s",
                "--timeout",
                f"{WRK_TIMEOUT_SECONDS}s",
                "--latency",
                "-s",
                str(script),
                url,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for url, share in zip(urls, shares, strict=True)
        if share
    ]
    outputs = [run.communicate(timeout=seconds + WRK_TIMEOUT_SECONDS + 30)[0] for run in runs]
    cpu_ms = (cpu_ticks(server_pids) - before) * 1000 / CLOCK_TICKS
    parsed = [parse_wrk(output) for output in outputs]
    requests = sum(p["requests"] for p in parsed)
    return Round(
        clients=clients,
        requests=requests,
        seconds=seconds,
        rps=sum(p["rps"] for p in parsed),
        p50_ms=max(p["p50_ms"] for p in parsed),
        p99_ms=max(p["p99_ms"] for p in parsed),
        non_2xx=sum(p["non_2xx"] for p in parsed),
        socket_errors=sum(p["socket_errors"] for p in parsed),
        cpu_ms=cpu_ms,
    )


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> dict[str, Any]:
    """Requests, requests/s, p50/p99 latency, non-2xx and socket errors from wrk's report."""
    requests = re.search(r"(\d+) requests in", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if requests is None or rps is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "requests": int(requests.group(1)),
        "rps": float(rps.group(1)),
        "p50_ms": _ms(p50.group(1)) if p50 else 0.0,
        "p99_ms": _ms(p99.group(1)) if p99 else 0.0,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(int(n) for n in sockets.groups()) if sockets else 0,
    }
