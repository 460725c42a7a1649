"""URL routes: the admin, the GraphQL endpoint (/graphql/), export downloads (/exports/<id>/),
and the operator's probes and metrics (/healthz, /readyz, /metrics)."""

from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import URLPattern, URLResolver, include, path

from config.health import healthz, readyz
from config.metrics import metrics_view

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("", include("graphql_api.urls")),
    # profile page: a shell whose script reads everything through /graphql/ (owner: profile page)
    path("", include("web.urls")),
    # production readiness: probes and Prometheus scrape (see docs/operations.md)
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
]

if settings.DEBUG:
    urlpatterns += staticfiles_urlpatterns()
