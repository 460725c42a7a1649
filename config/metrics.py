"""GET /metrics: Prometheus text format, summed over every process of this machine.

With ``PROMETHEUS_MULTIPROC_DIR`` set (the Procfile sets it and clears it on start), each
request reads every process's files, so any ASGI worker answers for the Celery worker, the
other ASGI workers and commands alike: scrape one of them, not all (their sums would add up).
Without it, this process's own registry. Either way, ``ledger_jobs_stale_leases`` is read
from the database at each scrape.

Scrapes send ``Authorization: Bearer <METRICS_TOKEN>``. Without a token configured nobody is
answered (403), but in DEBUG: metrics name operations and show traffic, and a production
server must not hand them to anyone who asks (``check --deploy`` fails, deltacrown.E003).
"""

from __future__ import annotations

import hmac
import logging
import os

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from ledger.metrics import StaleLeaseCollector
from ledger.operations.leases import stale_lease_counts

logger = logging.getLogger("deltacrown.metrics")


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


def _stale_leases() -> dict[str, int]:
    """Stale leases by kind; none reported (rather than a failed scrape) if the database is
    down: /readyz and the other metrics say so."""
    try:
        return stale_lease_counts()
    except DatabaseError:
        logger.warning("stale job leases not read: the database did not answer")
        return {}


def _from_database() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StaleLeaseCollector(_stale_leases))
    return registry


def _authorized(request: HttpRequest, token: str) -> bool:
    sent = request.headers.get("Authorization", "")
    return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    token = getattr(settings, "METRICS_TOKEN", None)
    if not token and not settings.DEBUG:
        return HttpResponse(
            "Metrics are off: set METRICS_TOKEN and scrape with it.",
            status=403,
            content_type="text/plain",
        )
    if token and not _authorized(request, token):
        response = HttpResponse("A bearer token is required.", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body = generate_latest(_registry()) + generate_latest(_from_database())
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
