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
