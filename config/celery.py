"""The Celery app: a worker runs the ledger's long jobs when CELERY_BROKER_URL is set.

Start a worker with ``celery -A config worker -l info`` and the schedule with
``celery -A config beat -l info`` (both log through Django's LOGGING, so LOG_LEVEL sets the
level, not ``-l``). Tasks carry the request id of whoever sent them, and the worker's log lines
name their task (``config.celery_context``). Every worker sends again, at start and then every
quarter of ``LEDGER_JOB_LEASE_SECONDS``, the ledger jobs whose worker died (``JobLeaseSweep``).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery, bootsteps
from celery.signals import setup_logging
from celery.worker import WorkController

from config import celery_context  # noqa: F401 - connects the request-id signal handlers

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("deltacrown")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger("ledger.jobs")


class JobLeaseSweep(bootsteps.StartStopStep):
    """Each worker, on its own timer: send again the jobs no live worker holds.

    It runs in the worker's main process, not as a task: a task could wait behind the very jobs
    whose workers are busy. Workers need no beat for it, and however many sweep, a job is sent
    at most once per lease (``ledger.operations.leases.requeue_stale_jobs``).
    """

    requires = {"celery.worker.components:Timer"}

    def __init__(self, parent: WorkController, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.entries: list[Any] = []

    def start(self, parent: WorkController) -> None:
        from django.conf import settings

        every = max(settings.LEDGER_JOB_LEASE_SECONDS / 4, 0.5)
        self.entries = [
            parent.timer.call_after(0, self.sweep),
            parent.timer.call_repeatedly(every, self.sweep),
        ]

    def stop(self, parent: WorkController) -> None:
        for entry in self.entries:
            entry.cancel()

    def sweep(self) -> None:
        from django.db import DatabaseError, connection

        from ledger.operations.jobs import requeue_stale_jobs

        try:
            requeue_stale_jobs()
        except DatabaseError:
            logger.warning("stale ledger jobs not swept: the database did not answer")
        finally:
            connection.close()  # pool children must not inherit an open connection


app.steps["worker"].add(JobLeaseSweep)


@setup_logging.connect
def use_django_logging(**_: Any) -> None:
    """Workers and beat log through Django's LOGGING (``config.logging``), nothing of Celery's.

    Left to itself, Celery gives the ``celery.task`` loggers a plain-text handler of its own that
    does not propagate (even with ``worker_hijack_root_logger`` off), so task-logger lines would
    skip the JSON formatter and its redaction, and it sets the root level from ``--loglevel``.
    With a receiver here it does neither: LOG_FORMAT and LOG_LEVEL govern every process alike.
    """
    from django.conf import settings
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
