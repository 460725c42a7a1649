"""/healthz answers without touching anything; /readyz checks the database and Redis."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_a_query():
    with CaptureQueriesContext(connection) as queries:
        response = Client().get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert len(queries) == 0


def test_readyz_checks_the_database_and_nothing_else_when_redis_is_not_configured(settings):
    settings.REDIS_URL = None
    settings.CELERY_BROKER_URL = None
    with CaptureQueriesContext(connection) as queries:
        response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}}
    assert [q["sql"] for q in queries] == ["SELECT 1"]


def test_readyz_is_503_naming_the_failed_dependency(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.CELERY_BROKER_URL = None
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "redis": "unavailable"},
    }


def test_readyz_is_503_when_the_database_does_not_answer(settings):
    settings.REDIS_URL = None
    settings.CELERY_BROKER_URL = None
    with mock.patch("config.health._database", side_effect=OSError("connection refused")):
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "unavailable"}


def test_readyz_checks_the_broker_and_the_channel_layer_when_they_differ(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/1"
    response = Client().get("/readyz")
    assert response.json()["checks"] == {
        "database": "ok",
        "redis1": "unavailable",
        "redis2": "unavailable",
    }


def test_probes_refuse_other_methods():
    assert Client().post("/healthz").status_code == 405
    assert Client().post("/readyz").status_code == 405
    assert Client().post("/metrics").status_code == 405
