"""The Celery app: a worker runs the ledger's long jobs when CELERY_BROKER_URL is set.

Start a worker with ``celery -A config worker -l info`` and the schedule with
``celery -A config beat -l info`` (both log through Django's LOGGING, so LOG_LEVEL sets the
level, not ``-l``). Tasks carry the request id of whoever sent them, and the worker's log lines
name their task (``config.celery_context``).
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging

from config import celery_context  # noqa: F401 - connects the request-id signal handlers

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("deltacrown")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


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
