"""Capture what a logger writes, formatted by our JSON formatter, for assertions."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from config.logging import JsonFormatter


class JsonLines(logging.Handler):
    """Keeps each record as the JSON line production would write."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]


@contextmanager
def json_lines(logger_name: str | None = None, level: int = logging.DEBUG) -> Iterator[JsonLines]:
    """The lines ``logger_name`` (the root logger if None) writes at ``level`` and above."""
    handler = JsonLines()
    logger = logging.getLogger(logger_name)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
