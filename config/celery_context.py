"""Request ids follow work into Celery, so one staff request can be followed into the worker's logs.

``before_task_publish`` copies the current request id (``config.logging.request_id``) into the
task message's headers as ``request_id``, unless the sender already put one there. On the worker,
``task_prerun`` sets the request id from those headers and the task (``current_task``: its id and
name) for the length of the task, and ``task_postrun`` restores what was there before. Celery's
own "succeeded" and "failed" lines for the task fall inside that span; its "received" line is
written by the worker's main process before the task runs (the message names the task id).

A task that arrives without a request id (beat's nightly reconcile, a job sent from a management
command or a shell) runs with its own task id as request id: every line a worker writes for a task
then has a ``request_id``, and the tasks such a task sends carry that id on, as a request's would.
Its lines say where the id came from: ``request_id`` equals ``task_id``.

Imported by ``config.celery``: nothing here may need Django configured at import time.
"""

from __future__ import annotations

from contextvars import Token
from typing import Any

from celery.signals import before_task_publish, task_postrun, task_prerun

from config.logging import TaskContext, current_task, looks_like_request_id, request_id

HEADER = "request_id"
"""The message header that carries the request id (protocol 2: beside Celery's own headers)."""

_running: dict[str, tuple[Token[str | None], Token[TaskContext | None]]] = {}
"""Per running task id: what ``task_postrun`` resets (prerun and postrun are separate calls)."""


@before_task_publish.connect
def send_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """Put the current request id in the message, unless the sender set one of its own."""
    rid = request_id.get()
    if rid and headers is not None and not headers.get(HEADER):
        headers[HEADER] = rid


def received_request_id(request: Any) -> str | None:
    """The request id a task was sent with, if it looks like one.

    A worker sees the message's custom headers both as attributes of ``task.request`` and in
    ``task.request.headers``; ``Task.apply(headers=...)`` puts them only in the latter.
    """
    value = getattr(request, HEADER, None) or (getattr(request, "headers", None) or {}).get(HEADER)
    return value if looks_like_request_id(value) else None


@task_prerun.connect
def enter_task(task_id: str, task: Any, **_: Any) -> None:
    """Log the task's lines under the sender's request id (else its own id), its id and name."""
    rid = received_request_id(task.request) or task_id
    _running[task_id] = (request_id.set(rid), current_task.set(TaskContext(task_id, task.name)))


@task_postrun.connect
def leave_task(task_id: str, **_: Any) -> None:
    """Restore the request id and task that were current before the task ran."""
    tokens = _running.pop(task_id, None)
    if tokens is not None:
        rid_token, task_token = tokens
        current_task.reset(task_token)
        request_id.reset(rid_token)
