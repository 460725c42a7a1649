"""Production settings: `check --deploy` passes with the documented environment and fails
without it; TLS redirects spare the probes; the proxy header is trusted only when asked."""

from __future__ import annotations

import os
import subprocess

import pytest
from django.test import Client

from tests.support.processes import run_python

PRODUCTION = {
    "DJANGO_SECRET_KEY": "k" * 20 + "-production-secret-with-enough-entropy-0123456789",
    "DJANGO_ALLOWED_HOSTS": "ledger.example.com",
    "DJANGO_SECURE": "1",
    "DJANGO_HSTS_PRELOAD": "1",
    "DATABASE_URL": "postgres://ledger@db.internal:5432/ledger",
    "METRICS_TOKEN": "scrape-token-for-prometheus",
}


def deploy_check(**env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("DJANGO_", "DATABASE_URL", "LEDGER_", "METRICS_TOKEN", "PAGE_CONTENT_SECURITY")
        )
    }
    return run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={**base, **env},
        check=False,
    )


def test_check_deploy_passes_with_the_production_environment():
    done = deploy_check(**PRODUCTION)
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"DJANGO_SECRET_KEY": None}, "deltacrown.E001"),
        ({"DJANGO_DEBUG": "1"}, "security.W018"),
        ({"DJANGO_SECURE": None}, "security.W008"),
        ({"DJANGO_HSTS_SECONDS": "0"}, "security.W004"),
        ({"DATABASE_URL": None}, "deltacrown.W001"),
        ({"METRICS_TOKEN": None}, "deltacrown.E003"),
        ({"PAGE_CONTENT_SECURITY_POLICY": ""}, "deltacrown.E004"),
    ],
)
def test_check_deploy_fails_without_each_production_setting(change, problem):
    env = {k: v for k, v in {**PRODUCTION, **change}.items() if v is not None}
    done = deploy_check(**env)
    assert done.returncode != 0
    assert problem in done.stderr


@pytest.mark.django_db
def test_tls_redirect_spares_the_probes_and_trusts_the_proxy_only_when_asked(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.METRICS_TOKEN = "scrape"
    response = Client().get("/graphql/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/graphql/"
    assert Client().get("/healthz").status_code == 200
    assert Client().get("/readyz").status_code in (200, 503)
    scrape = Client().get("/metrics", headers={"Authorization": "Bearer scrape"})
    assert scrape.status_code == 200
    forwarded = {"X-Forwarded-Proto": "https"}
    assert Client().get("/graphql/", headers=forwarded).status_code == 301  # not trusted yet
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    behind_proxy = Client().get("/healthz", headers=forwarded)
    assert behind_proxy.status_code == 200
    assert behind_proxy["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_cookies_are_secure_and_hsts_is_on_unless_debug():
    """The settings module as a fresh process reads it, with and without DJANGO_DEBUG."""
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_SSL_REDIRECT, getattr(s, 'SECURE_PROXY_SSL_HEADER', None))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"

    def read(**extra: str) -> str:
        return run_python(["-c", code], env={**env, **extra}).stdout.strip()

    assert read() == "False True True 31536000 False None"
    assert read(DJANGO_DEBUG="1") == "True False False 0 False None"
    assert read(DJANGO_SECURE="1", DJANGO_SECURE_PROXY_SSL_HEADER="1") == (
        "False True True 31536000 True ('HTTP_X_FORWARDED_PROTO', 'https')"
    )
