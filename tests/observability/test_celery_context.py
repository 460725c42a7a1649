"""Request ids follow work into Celery; a worker's lines name the request and the task.

The signal handlers of ``config.celery_context`` are exercised the way Celery calls them: a message
is published to an in-memory broker (``before_task_publish``) and run by the worker's own request
code (``task_prerun``/``task_postrun``), or run with ``Task.apply``.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from celery import Celery
from celery.worker.request import Request
from kombu import Message

from config.celery_context import HEADER
from config.logging import current_task, request_id
from tests.observability.json_lines import JsonLines, json_lines
from tests.support.processes import run_python

LOGGER = "tests.observability.celery_task"
ECHO = "tests.observability.echo"
SEND = "tests.observability.send_echo"
OUTER = "outer-request-0001"


@pytest.fixture(scope="module")
def app() -> Celery:
    """A broker-less app: messages go to kombu's in-memory transport, no result backend."""
    app = Celery("celery-context-tests", broker="memory://", fixups=[], set_as_current=False)

    @app.task(name=ECHO)
    def echo() -> dict[str, Any]:
        logging.getLogger(LOGGER).info("inside the task")
        task = current_task.get()
        return {"request_id": request_id.get(), "task": task and tuple(task)}

    @app.task(name=SEND)
    def send_echo(queue: str) -> None:
        echo.apply_async(queue=queue)

    return app


@pytest.fixture
def lines() -> Iterator[JsonLines]:
    with json_lines(LOGGER, logging.INFO) as handler:
        yield handler


@contextmanager
def request(rid: str | None) -> Iterator[None]:
    token = request_id.set(rid)
    try:
        yield
    finally:
        request_id.reset(token)


def queue_name() -> str:
    return f"celery-context-{uuid.uuid4().hex}"


def take(app: Celery, queue: str) -> Message:
    """The one message published to ``queue``."""
    with app.connection_for_read() as conn, conn.SimpleQueue(queue) as q:
        message = q.get(timeout=5)
        assert q.qsize() == 0
        return message


def run_on_worker(app: Celery, message: Message) -> dict[str, Any]:
    """What a worker's pool process does with a message: the task's return value."""
    return Request(message, app=app, hostname="celery@test").execute()


def test_publishing_inside_a_request_puts_its_id_in_the_message_headers(app):
    queue = queue_name()
    with request("req-publish-0001"):
        sent = app.tasks[ECHO].apply_async(queue=queue)
    message = take(app, queue)
    assert message.headers["id"] == sent.id
    assert message.headers[HEADER] == "req-publish-0001"


def test_publishing_keeps_a_request_id_the_sender_set(app):
    queue = queue_name()
    with request("req-publish-0002"):
        app.tasks[ECHO].apply_async(queue=queue, headers={HEADER: "upstream-0002"})
    assert take(app, queue).headers[HEADER] == "upstream-0002"


def test_publishing_outside_a_request_adds_no_request_id(app):
    queue = queue_name()
    with request(None):
        app.tasks[ECHO].apply_async(queue=queue)
    assert HEADER not in take(app, queue).headers


def test_a_worker_runs_the_task_under_the_senders_request_id_then_restores_its_own(app, lines):
    queue = queue_name()
    with request("req-worker-0003"):
        sent = app.tasks[ECHO].apply_async(queue=queue)
    message = take(app, queue)
    with request(OUTER):
        seen = run_on_worker(app, message)
        assert (request_id.get(), current_task.get()) == (OUTER, None), "postrun restores both"
    assert seen == {"request_id": "req-worker-0003", "task": (sent.id, ECHO)}
    [line] = lines.records()
    assert line == {
        "ts": line["ts"],
        "level": "INFO",
        "logger": LOGGER,
        "message": "inside the task",
        "request_id": "req-worker-0003",
        "task_id": sent.id,
        "task_name": ECHO,
    }


def test_a_task_sent_without_a_request_id_runs_under_its_own_task_id(app, lines):
    queue = queue_name()
    with request(None):
        sent = app.tasks[ECHO].apply_async(queue=queue)
        seen = run_on_worker(app, take(app, queue))
        assert (request_id.get(), current_task.get()) == (None, None)
    assert seen == {"request_id": sent.id, "task": (sent.id, ECHO)}
    [line] = lines.records()
    assert (line["request_id"], line["task_id"], line["task_name"]) == (sent.id, sent.id, ECHO)


def test_a_task_without_a_request_id_passes_its_own_id_on_to_the_tasks_it_sends(app):
    queue = queue_name()
    with request(None):
        parent = app.tasks[SEND].apply(args=(queue,))
    assert parent.successful()
    assert take(app, queue).headers[HEADER] == parent.id


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({HEADER: "req-apply-0004"}, "req-apply-0004"),
        ({HEADER: "<script>alert(1)</script>"}, None),  # not a request id: the task's own
        ({HEADER: ""}, None),
        (None, None),
    ],
)
def test_task_apply_reads_the_request_id_from_its_headers(app, lines, headers, expected):
    with request(OUTER):
        result = app.tasks[ECHO].apply(headers=headers)
        assert (request_id.get(), current_task.get()) == (OUTER, None)
    assert result.get() == {"request_id": expected or result.id, "task": (result.id, ECHO)}
    [line] = lines.records()
    assert (line["request_id"], line["task_id"]) == (expected or result.id, result.id)


def test_outside_a_task_a_line_names_no_task(lines):
    with request("req-plain-0005"):
        logging.getLogger(LOGGER).info("no task here")
    [line] = lines.records()
    assert line["request_id"] == "req-plain-0005"
    assert "task_id" not in line
    assert "task_name" not in line


WORKER_LOGGING = """
import logging
import django

django.setup()
from celery.utils.log import get_task_logger
from config.celery import app

# what `celery worker` does once the app is loaded (celery.apps.worker.Worker.setup_logging)
app.log.setup("DEBUG", None, redirect_stdouts=False, colorize=False, hostname="celery@test")
get_task_logger("ledger.tasks").info("task logger line for bob@example.com")
logging.getLogger("ledger.jobs").info("module logger line")
logging.getLogger("ledger.jobs").debug("below LOG_LEVEL")
"""


def test_a_worker_logs_through_djangos_config_not_celerys():
    """Celery left alone gives task loggers a plain-text handler of its own, and takes the level
    from --loglevel; the worker must write JSON (redacted) lines at LOG_LEVEL instead."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "LOG_"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", LOG_FORMAT="json", LOG_LEVEL="INFO")
    done = run_python(["-c", WORKER_LOGGING], env=env)
    written = [line for line in done.stderr.splitlines() if line.strip()]
    records = [json.loads(line) for line in written]  # fails on any plain-text line
    assert [(r["logger"], r["message"]) for r in records] == [
        ("ledger.tasks", "task logger line for [email]"),
        ("ledger.jobs", "module logger line"),
    ]
