"""JSON log lines carry the request id and the GraphQL operation, and no personal data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from unittest import mock

import pytest
from django.test import Client

from config.logging import redact
from graphql_api.auth.tokens import issue_api_token
from tests.factories import UserFactory
from tests.observability.json_lines import JsonLines, json_lines

pytestmark = pytest.mark.django_db

USERNAME = "zelda_the_player"
EMAIL = "zelda.player@example.org"


@pytest.fixture
def log_lines() -> Iterator[JsonLines]:
    with json_lines() as handler:
        yield handler


def post(query: str, variables: dict | None = None, *, headers: dict[str, str] | None = None):
    return Client(REMOTE_ADDR="203.0.113.77").post(
        "/graphql/",
        data=json.dumps({"query": query, "variables": variables or {}}),
        content_type="application/json",
        headers=headers or {},
    )


def test_each_request_logs_one_line_with_its_id_and_operation_and_echoes_the_id(log_lines):
    user = UserFactory.create()
    response = post(
        "query PlayerStats($id: ID) { stats(userId: $id) { matchesPlayed } }",
        {"id": str(user.pk)},
        headers={"X-Request-ID": "req-0123456789"},
    )
    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-0123456789"
    [line] = [r for r in log_lines.records() if r["logger"] == "deltacrown.request"]
    assert line == {
        "ts": line["ts"],
        "level": "INFO",
        "logger": "deltacrown.request",
        "message": "POST /graphql/ 200",
        "request_id": "req-0123456789",
        "graphql_operation": "PlayerStats",
        "method": "POST",
        "path": "/graphql/",
        "status": 200,
        "duration_ms": line["duration_ms"],
    }


def test_a_request_id_that_does_not_look_like_one_is_replaced(log_lines):
    response = Client().get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert response.status_code == 200
    assert len(response["X-Request-ID"]) == 32
    assert "script" not in response["X-Request-ID"]
    assert not [r for r in log_lines.records() if r["logger"] == "deltacrown.request"], (
        "probes are not logged"
    )


def test_a_server_error_is_logged_with_request_and_operation_but_without_personal_data(
    log_lines,
):
    user = UserFactory.create(username=USERNAME, email=EMAIL)
    _, token = issue_api_token(user=user)
    secret = f"no route for {EMAIL} from 198.51.100.23 and fe80::1ff:fe23:4567:890a token {token}"
    with mock.patch(
        "graphql_api.stats.queries.existing_user_stats", side_effect=RuntimeError(secret)
    ):
        response = post(
            "query MyStats { me { username } stats { matchesPlayed } }",
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-error-0001"},
        )
    assert response.json()["errors"][0]["message"] == "Unexpected error."
    errors = [r for r in log_lines.records() if r["level"] == "ERROR"]
    assert errors, "the server error is logged"
    assert all(r["request_id"] == "req-error-0001" for r in errors)
    assert all(r["graphql_operation"] == "MyStats" for r in errors)
    assert any(r.get("exc_type") == "RuntimeError" for r in errors)
    assert any("[email]" in r.get("exc", "") + r["message"] for r in errors)
    text = "\n".join(log_lines.lines)
    for personal in (USERNAME, EMAIL, "example.org", token, "198.51.100.23", "fe80::", "203.0.113"):
        assert personal not in text


def test_looking_a_player_up_by_name_logs_no_name_or_address(log_lines):
    UserFactory.create(username=USERNAME, email=EMAIL)
    response = post(
        "query Lookup($name: String!) { user(username: $name) { username } }", {"name": USERNAME}
    )
    assert response.json()["data"]["user"]["username"] == USERNAME
    text = "\n".join(log_lines.lines)
    assert '"graphql_operation": "Lookup"' in text
    for personal in (USERNAME, EMAIL, "203.0.113.77"):
        assert personal not in text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("mail bob@example.com now", "mail [email] now"),
        ("from 10.0.0.12:5543 -", "from [ip]:5543 -"),
        ("peer 2001:db8::8a2e:370:7334 left", "peer [ip] left"),
        ("peer ::1 left", "peer [ip] left"),
        ("Authorization: Bearer abcdefgh12345678", "Authorization: Bearer [redacted]"),
        ("password=hunter22 and", "password=[redacted] and"),
        ("tok " + "A" * 43, "tok [redacted]"),
        ("ledger job 12 (reconcile) failed", "ledger job 12 (reconcile) failed"),
        ("at 12:30:15 on 2026-01-01", "at 12:30:15 on 2026-01-01"),
    ],
)
def test_redact(raw, clean):
    assert redact(raw) == clean
