"""Static files reach browsers with DEBUG off: the profile page and the admin need them."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings


@pytest.mark.parametrize("path", ["/static/web/profile.js", "/static/admin/css/base.css"])
@override_settings(DEBUG=False)
def test_static_files_are_served_without_debug(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)  # type: ignore[attr-defined]


@override_settings(DEBUG=False)
def test_a_missing_static_file_is_a_404_not_a_server_error() -> None:
    assert Client().get("/static/web/no-such-file.js").status_code == 404
