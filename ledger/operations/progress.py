"""Progress reporting shared by services, commands and jobs.

Services call an optional ``ProgressCallback(done, total)`` after each committed batch; a command
turns it into a rich progress bar on a terminal or periodic log lines elsewhere, a job into its
``progress_done``/``progress_total`` columns.

Those calls are also the job's checkpoints: a job's callback renews its lease there and raises
``OperationStopped`` when the job was cancelled or its worker lost the lease. A service lets it
propagate (it never catches it), so it stops between two committed batches: nothing is left
half-written, and a run started later resumes from what committed.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import TextIO

ProgressCallback = Callable[[int, int | None], None]
"""Called with (units done so far, total units or None when unknown)."""

logger = logging.getLogger("ledger.operations")


class OperationStopped(Exception):
    """Raised by a progress callback to stop its service at a checkpoint (``reason``: cancelled,
    or lost: another worker holds the job now)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"stopped at a checkpoint: {reason}")
        self.reason = reason


LOG_EVERY_SECONDS = 10.0


@contextlib.contextmanager
def console_progress(
    *, description: str, stream: TextIO, unit: str = "rows"
) -> Iterator[ProgressCallback]:
    """A progress bar with rate and time left on a terminal; periodic log lines otherwise."""
    if stream.isatty():
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=Console(file=stream), transient=False) as bar:
            task = bar.add_task(description, total=None, rate="")

            def update(done: int, total: int | None) -> None:
                speed = bar.tasks[task].speed
                rate = f"{speed:,.0f} {unit}/s" if speed else ""
                bar.update(task, completed=done, total=total, rate=rate)

            yield update
        return

    started = time.monotonic()
    last_logged = started

    def log(done: int, total: int | None) -> None:
        nonlocal last_logged
        now = time.monotonic()
        if now - last_logged < LOG_EVERY_SECONDS and (total is None or done < total):
            return
        last_logged = now
        elapsed = max(now - started, 1e-9)
        rate = done / elapsed
        if total:
            left = (total - done) / rate if rate else float("inf")
            logger.info(
                "%s: %d/%d %s (%.0f%%), %.0f %s/s, about %.0fs left",
                description,
                done,
                total,
                unit,
                100 * done / total,
                rate,
                unit,
                left,
            )
        else:
            logger.info("%s: %d %s, %.0f %s/s", description, done, unit, rate, unit)

    yield log
