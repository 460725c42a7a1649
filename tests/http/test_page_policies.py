"""The profile page says, in its Content-Security-Policy, that it loads nothing from elsewhere."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_the_profile_page_sends_its_policy(settings):
    response = Client().get("/u/anyone/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert policy == settings.PAGE_CONTENT_SECURITY_POLICY
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'"
    for directive in ("script-src", "style-src", "connect-src"):
        assert directives[directive] == "'self'", directive
    assert directives["frame-ancestors"] == "'none'"


@pytest.mark.django_db
def test_graphiql_allows_exactly_its_own_inline_scripts(settings):
    import base64
    import hashlib
    import re

    settings.DEBUG = True
    response = Client().get("/graphql/", headers={"Accept": "text/html"})
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["connect-src"] == "'self'"
    inline = re.findall(r"<script>(.*?)</script>", response.content.decode(), re.DOTALL)
    assert inline, "GraphiQL's page has its inline start-up script"
    allowed = set(re.findall(r"'sha256-([^']+)'", directives["script-src"]))
    assert allowed == {
        base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() for script in inline
    }
    assert "'unsafe-inline'" not in directives["script-src"]
