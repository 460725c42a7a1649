"""GraphQL metrics: latency and errors by operation name, and open subscriptions.

Operation names come from clients, so labels are bounded: an unnamed operation is
``anonymous``, a name that is not a plain GraphQL name is ``invalid``, and once a process has
seen ``MAX_OPERATION_NAMES`` distinct names every further new one is ``other``.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar

from graphql import GraphQLError
from prometheus_client import Counter, Gauge, Histogram
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from graphql_api.errors import is_client_error

MAX_OPERATION_NAMES = 100
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_seen: set[str] = set()
_seen_lock = threading.Lock()

current_operation: ContextVar[str | None] = ContextVar("graphql_operation", default=None)
"""The bounded label of the operation being served; structured logs carry it."""

OPERATION_SECONDS = Histogram(
    "graphql_operation_duration_seconds",
    "Time to parse, validate and execute a query or mutation (subscriptions are not timed).",
    ["operation", "type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
OPERATION_ERRORS = Counter(
    "graphql_operation_errors",
    "Operations answered with errors: kind=server for a bug or an outage (masked in production), "
    "kind=client for a bad query, input or permission.",
    ["operation", "type", "kind"],
)
OPEN_SUBSCRIPTIONS = Gauge(
    "graphql_open_subscriptions",
    "Subscriptions being served now, summed over live processes.",
    multiprocess_mode="livesum",
)


def operation_label(name: str | None) -> str:
    """A bounded label for a client-chosen operation name."""
    if not name:
        return "anonymous"
    if not _NAME.fullmatch(name):
        return "invalid"
    if name in _seen:
        return name
    with _seen_lock:
        if name in _seen or len(_seen) < MAX_OPERATION_NAMES:
            _seen.add(name)
            return name
    return "other"


@functools.lru_cache(maxsize=MAX_OPERATION_NAMES * 4)
def _timer(label: str, kind: str) -> Histogram:
    """The histogram's child for these labels, found once (labels() locks and looks up)."""
    return OPERATION_SECONDS.labels(operation=label, type=kind)


class OperationMetrics(SchemaExtension):
    """Times queries and mutations, counts failed ones, and tracks open subscriptions.

    Listed last among the schema's extensions so that it sees errors before MaskErrors
    replaces them (hooks exit in reverse order).
    """

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        self._subscribed = False
        failed: Exception | None = None
        try:
            yield
        except Exception as error:
            failed = error
            raise
        finally:  # also when a subscription is cancelled (its client left)
            self._finish(started, failed)

    def on_validate(self) -> Iterator[None]:
        """Parsed by now: name the operation for the logs (the request middleware reads it too,
        so it is left set for the rest of the request's context)."""
        context = self.execution_context
        current_operation.set(operation_label(context.operation_name))
        yield
        if not context.pre_execution_errors and self._type() == "subscription":
            self._subscribed = True
            OPEN_SUBSCRIPTIONS.inc()

    def _type(self) -> str:
        try:
            return self.execution_context.operation_type.value
        except (RuntimeError, KeyError, AttributeError):
            return "unknown"

    def _finish(self, started: float, failed: Exception | None) -> None:
        context = self.execution_context
        label = operation_label(context.operation_name)
        kind = self._type()
        if self._subscribed:
            OPEN_SUBSCRIPTIONS.dec()
        elif kind != OperationType.SUBSCRIPTION.value:
            _timer(label, kind).observe(time.perf_counter() - started)
        errors: list[GraphQLError] = list(context.pre_execution_errors or [])
        result = context.result
        if not errors and result is not None:
            errors = list(getattr(result, "errors", None) or [])
        if failed is not None and not isinstance(failed, GraphQLError):
            OPERATION_ERRORS.labels(operation=label, type=kind, kind="server").inc()
        elif errors:
            server = any(not is_client_error(error) for error in errors)
            OPERATION_ERRORS.labels(
                operation=label, type=kind, kind="server" if server else "client"
            ).inc()
