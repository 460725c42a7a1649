"""Probes: /healthz (the process answers) and /readyz (its database and Redis answer).

A load balancer sends traffic only to ready workers and restarts unhealthy ones; neither
probe needs authentication, and neither says more than which dependency failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger("deltacrown.health")

REDIS_TIMEOUT_SECONDS = 2.0


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _redis_urls() -> list[str]:
    """Every Redis this process relies on: the channel layer's and the Celery broker's."""
    urls = [getattr(settings, "REDIS_URL", None), getattr(settings, "CELERY_BROKER_URL", None)]
    return sorted({u for u in urls if u and u.startswith(("redis://", "rediss://"))})


def _redis(url: str) -> Callable[[], None]:
    def ping() -> None:
        import redis

        client = redis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
        )
        try:
            client.ping()
        finally:
            client.close()

    return ping


def readiness_checks() -> dict[str, Callable[[], None]]:
    checks: dict[str, Callable[[], None]] = {"database": _database}
    urls = _redis_urls()
    for n, url in enumerate(urls):
        checks["redis" if len(urls) == 1 else f"redis{n + 1}"] = _redis(url)
    return checks


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    for name, check in readiness_checks().items():
        try:
            check()
        except Exception as error:
            logger.warning("readiness check %s failed: %s", name, type(error).__name__)
            results[name] = "unavailable"
        else:
            results[name] = "ok"
    ready = all(state == "ok" for state in results.values())
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": results},
        status=200 if ready else 503,
    )
