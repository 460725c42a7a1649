"""Browser fixtures: Debian's Chromium driven by Playwright, and real uvicorn servers.

Django's live_server serves no WebSockets, so the page is served by uvicorn on the project's
ASGI app in a subprocess, on the test database (rows committed: transaction=True) and on Redis
(so an event the test process commits reaches the server's subscribers). Every wait is bounded.

Chromium comes from apt (``apt-get install chromium``), installed here on first use when missing;
``playwright install`` is never run (it downloads browsers from a CDN).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import services
from tests.support.servers import server_environment, start_uvicorn, stop

ROOT = Path(__file__).resolve().parents[2]
WAIT_MS = 15_000
WEB_REDIS_DB = 12
"""Milliseconds any single browser wait may take before the test fails."""
SERVER_START_SECONDS = 20.0
APT_TIMEOUT_SECONDS = 600
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _find_chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium, installed with apt (bounded) when missing; a loud skip if impossible."""
    path = _find_chromium()
    if path is None and shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        with contextlib.suppress(subprocess.TimeoutExpired):
            subprocess.run(
                "apt-get update -q && apt-get install -y -q --no-install-recommends chromium",
                shell=True,
                env=env,
                check=False,
                capture_output=True,
                timeout=APT_TIMEOUT_SECONDS,
            )
        path = _find_chromium()
    if path is None:
        pytest.skip(
            "BROWSER TESTS NOT RUN: Chromium is missing and could not be installed "
            "(run as root: apt-get install -y chromium)"
        )
    return path


@pytest.fixture
def browser_page(
    chromium_path: str, server: Server, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """A fresh headless Chromium page (1280x900), every wait bounded by WAIT_MS; closed before
    the server stops (so the server is not left waiting on the page's WebSocket).

    Playwright's sync API keeps an event loop running on this thread while it is open, so the
    test's own ORM calls need DJANGO_ALLOW_ASYNC_UNSAFE (test code only, never the server)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS, timeout=WAIT_MS
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        context.set_default_timeout(WAIT_MS)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.js_errors = errors
        try:
            yield page
        finally:
            context.close()
            browser.close()
            # While Playwright runs, asgiref's Local keys Django's connections by context: close
            # the ones this test opened here, or the test database cannot be dropped.
            from django.db import connections

            connections.close_all()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def server_env() -> dict[str, str]:
    """The server's environment: the test database, Redis with a prefix of its own, DEBUG so
    the page's static files are served without collectstatic."""
    return {**server_environment(redis_db=WEB_REDIS_DB, prefix="dcweb"), "DJANGO_DEBUG": "1"}


class Server:
    """One uvicorn process; ``restart`` brings it back on the same port (a dropped connection)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = services.free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        self.process, _ = start_uvicorn(
            self.env,
            port=self.port,
            options=("--timeout-graceful-shutdown", "3"),
            output=None,
            timeout=SERVER_START_SECONDS,
        )
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop([self.process])
            self.process = None


@pytest.fixture
def server(server_env: dict[str, str]) -> Iterator[Server]:
    """A running uvicorn on a free 127.0.0.1 port, stopped at teardown."""
    running = Server(server_env).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def wait_subscribed(server_env: dict[str, str]) -> Callable[[int], None]:
    """Bounded wait until a page's subscriptions joined a user's group (in Redis)."""
    import asyncio
    import threading

    from tests.graphql_api.subscriptions.test_live_servers import wait_joined

    def wait(user_id: int, members: int = 1) -> None:
        # Playwright keeps a loop running on this thread: wait on a thread of our own.
        failure: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(wait_joined(server_env, user_id, members))
            except BaseException as error:  # reported on the test's thread
                failure.append(error)

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(timeout=30)
        assert not thread.is_alive(), "not subscribed within the wait"
        assert not failure, failure

    return wait


def in_thread(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ORM writes off Playwright's thread: their on-commit publishing (async_to_sync) cannot
    run on a thread with a running event loop. The thread's connection is closed afterwards."""
    import threading

    from django.db import connections

    result: list[Any] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(function(*args, **kwargs))
        except BaseException as error:  # re-raised on the test's thread
            failure.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), f"{function.__name__} did not finish within 60 s"
    if failure:
        raise failure[0]
    return result[0]
