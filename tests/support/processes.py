"""Running the project's own Python entry points in a child process, as an operator would."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run_python(
    args: Sequence[str], *, env: Mapping[str, str], timeout: float = 60, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` in the project root; fails the test with the end of its stderr unless
    it exits 0 (``check=False``: the caller reads how it ended)."""
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert done.returncode == 0, done.stderr[-4000:]
    return done


def wait_until(
    check: Callable[[], Any],
    what: str,
    *,
    timeout: float,
    every: float = 0.2,
    context: Callable[[], str] = str,
) -> Any:
    """Call ``check`` every ``every`` seconds until it returns something true, and return that;
    fail the test after ``timeout`` seconds, with ``context()`` (a process's log, say)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}\n{context()}".rstrip())
