"""Structured logs: one JSON object per line, with the request id and the GraphQL operation.

On a Celery worker the lines of a task also carry ``task_id`` and ``task_name``, and the request id
of the request (or task) that sent it: ``config.celery_context`` sets both context variables.

Personal data stays out: a record is written from a fixed set of fields (never the request
object, its headers or its client address), and the message and traceback pass through
``redact`` (e-mail addresses, IP addresses, bearer tokens and secrets in key=value form). Our
own log calls name users by id only; uvicorn's access log (client addresses) is left off in
the Procfile and our middleware logs each request without them.

Imported by settings: nothing here may need Django configured at import time.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, NamedTuple

from asgiref.sync import iscoroutinefunction
from django.utils.decorators import sync_and_async_middleware

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


class TaskContext(NamedTuple):
    """The Celery task a worker is running: written on each of its lines."""

    id: str
    name: str


current_task: ContextVar[TaskContext | None] = ContextVar("current_task", default=None)

REQUEST_ID_HEADER = "X-Request-ID"
_INCOMING_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
"""Probes and scrapes: answered, not logged (they would drown the requests that matter)."""

EXTRA_FIELDS = ("method", "path", "status", "duration_ms", "job_id", "job_kind")
"""The only ``extra=`` attributes a record may carry into the log line."""

_REDACTIONS = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 [redacted]"),
    (re.compile(r"(?<![\w-])[A-Za-z0-9_-]{40,}(?![\w-])"), "[redacted]"),  # bare API tokens
    (
        re.compile(r"(?i)\b(password|passwd|secret|token|api_key|authorization)=\S+"),
        r"\1=[redacted]",
    ),
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email]"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"), "[ip]"),
)


_IPV6_CANDIDATE = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")


def _ipv6(match: re.Match[str]) -> str:
    """Only real IPv6 addresses: a time of day (12:30:15) looks alike and stays."""
    try:
        ipaddress.IPv6Address(match.group(0))
    except ValueError:
        return match.group(0)
    return "[ip]"


def redact(text: str) -> str:
    """Remove what must never reach a log: e-mail and IP addresses, tokens and secrets."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return _IPV6_CANDIDATE.sub(_ipv6, text)


@functools.lru_cache(maxsize=1024)
def _redact_short(text: str) -> str:
    return redact(text)


def _redact_message(text: str) -> str:
    """``redact``, remembered for short messages: a request line ("POST /graphql/ 200") repeats
    on every request and its six regular expressions were most of the line's cost."""
    return _redact_short(text) if len(text) <= 200 else redact(text)


def _operation() -> str | None:
    try:  # config may import graphql_api; lazily, since settings import this module
        from graphql_api.metrics import current_operation
    except ImportError:  # pragma: no cover - graphql_api is always installed here
        return None
    return current_operation.get()


_ENCODER = json.JSONEncoder(default=str)
"""``json.dumps(entry, default=str)`` builds an encoder per call."""


class JsonFormatter(logging.Formatter):
    """One JSON object per record, from a fixed set of fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": _redact_message(record.getMessage()),
        }
        rid = request_id.get()
        if rid:
            entry["request_id"] = rid
        task = current_task.get()
        if task is not None:
            entry["task_id"], entry["task_name"] = task.id, task.name
        operation = _operation()
        if operation:
            entry["graphql_operation"] = operation
        for name in EXTRA_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                entry[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc_type"] = record.exc_info[0].__name__
            entry["exc"] = redact(self.formatException(record.exc_info))
        return _ENCODER.encode(entry)


class PlainFormatter(logging.Formatter):
    """The readable local format, redacted the same way."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def lean_records() -> None:
    """Records without what no formatter here writes: the calling function and line (a walk up
    the stack per record), the thread, the process and its multiprocessing name; the logging
    HOWTO's "Optimization" (a tenth of the request line's cost, py-spy)."""
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None


def logging_config(*, json_logs: bool, level: str) -> dict[str, Any]:
    """Django's LOGGING: everything to stderr through one formatter, uvicorn's loggers too."""
    formatter = (
        {"()": "config.logging.JsonFormatter"}
        if json_logs
        else {
            "()": "config.logging.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    )
    handler = {"class": "logging.StreamHandler", "formatter": "default"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {"console": handler},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # uvicorn configured these before Django started: route them through ours.
            "uvicorn": {"handlers": ["console"], "level": level, "propagate": False},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            # client addresses on every line: off (the Procfile also passes --no-access-log)
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            # our request lines carry the same facts without the client address
            "django.server": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def looks_like_request_id(value: object) -> bool:
    """8 to 64 letters, digits, ``.``, ``_`` or ``-``: what may travel as a request id."""
    return isinstance(value, str) and _INCOMING_ID.fullmatch(value) is not None


def _incoming_or_new(header: str | None) -> str:
    """A proxy's request id is kept when it looks like one; anything else gets a fresh id."""
    if header and looks_like_request_id(header):
        return header
    return secrets.token_hex(16)  # 32 hex digits, as a UUID's hex without building one


def begin_request(request: Any) -> Callable[[], None]:
    """Set this request's id and a blank operation; return what restores the previous ones
    (the middleware below, and the API's fast path: ``config.fast_path``)."""
    from graphql_api.metrics import current_operation

    rid_token = request_id.set(_incoming_or_new(request.headers.get(REQUEST_ID_HEADER)))
    op_token = current_operation.set(None)

    def end() -> None:
        current_operation.reset(op_token)
        request_id.reset(rid_token)

    return end


_access = logging.getLogger("deltacrown.request")


def log_request(request: Any, response: Any, started: float) -> None:
    """The request's line, and its id on the response."""
    response[REQUEST_ID_HEADER] = request_id.get()
    if request.path in QUIET_PATHS:
        return
    _access.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        },
    )


@sync_and_async_middleware
def request_context_middleware(get_response: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Give each request an id (``X-Request-ID``, kept from a proxy or made here), log one line
    per request without the client's address, and clear the previous GraphQL operation."""
    if iscoroutinefunction(get_response):
        async_get: Callable[[Any], Awaitable[Any]] = get_response

        async def middleware(request: Any) -> Any:
            end = begin_request(request)
            started = time.perf_counter()
            try:
                response = await async_get(request)
                log_request(request, response, started)
                return response
            finally:
                end()

        return middleware

    def sync_middleware(request: Any) -> Any:
        end = begin_request(request)
        started = time.perf_counter()
        try:
            response = get_response(request)
            log_request(request, response, started)
            return response
        finally:
            end()

    return sync_middleware
