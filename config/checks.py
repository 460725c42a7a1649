"""Deploy checks Django cannot know: our development defaults must not reach production.

Run by ``manage.py check --deploy``; each names the environment variable that fixes it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

DEV_SECRET_PREFIX = "dev-only-insecure-key"


@register(Tags.security, deploy=True)
def check_production_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    if str(settings.SECRET_KEY).startswith(DEV_SECRET_PREFIX):
        problems.append(
            Error(
                "SECRET_KEY is the development default.",
                hint="Set DJANGO_SECRET_KEY to 50 or more random characters.",
                id="deltacrown.E001",
            )
        )
    if str(getattr(settings, "LEDGER_ERASURE_KEY", "")).startswith(DEV_SECRET_PREFIX):
        problems.append(
            Error(
                "LEDGER_ERASURE_KEY is the development default (it follows SECRET_KEY).",
                hint="Set DJANGO_SECRET_KEY, or LEDGER_ERASURE_KEY, and never rotate the latter.",
                id="deltacrown.E002",
            )
        )
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        problems.append(
            Warning(
                "The database is SQLite: one writer at a time, one machine.",
                hint="Set DATABASE_URL=postgres://... for production.",
                id="deltacrown.W001",
            )
        )
    if not getattr(settings, "METRICS_TOKEN", None):
        problems.append(
            Error(
                "METRICS_TOKEN is not set: /metrics answers nobody (403).",
                hint="Set METRICS_TOKEN and give Prometheus the same bearer token.",
                id="deltacrown.E003",
            )
        )
    if not getattr(settings, "PAGE_CONTENT_SECURITY_POLICY", ""):
        problems.append(
            Error(
                "PAGE_CONTENT_SECURITY_POLICY is empty: the profile page would send no "
                "Content-Security-Policy.",
                hint="Leave it at its default (config/settings.py) or set a policy.",
                id="deltacrown.E004",
            )
        )
    return problems
