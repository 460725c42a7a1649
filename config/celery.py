"""The Celery app: a worker runs the ledger's long jobs when CELERY_BROKER_URL is set.

Start a worker with ``celery -A config worker -l info`` and the schedule with
``celery -A config beat -l info``.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("deltacrown")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
