"""A short property-based fuzz of the live server (schemathesis, from schema.graphql) as
anonymous, player and staff callers: no response may be an internal error (5xx, or an error
masked as "Unexpected error."). The longer run: ``python -m bench.http.fuzz`` (docs)."""

from __future__ import annotations

import pytest

from bench.http.fuzz import classify, fuzz
from graphql_api.auth.tokens import issue_api_token
from tests.factories import UserFactory

EXAMPLES = 3
"""Per operation and caller: seconds in all. Too few to be sure of meeting a NUL (about 1% of
generated strings); test_graphql_http_unstorable_text.py holds that case, and the documented
run (300 per operation and caller) meets it."""


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (200, b'{"data": {"me": null}}', "data"),
        (
            200,
            b'{"data": null, "errors": [{"message": "x", "extensions": {"code": "X"}}]}',
            "client_error",
        ),
        (200, b'{"data": null, "errors": [{"message": "Unexpected error."}]}', "internal"),
        (500, b"Internal Server Error", "internal"),
        (401, b"Invalid or revoked API token.", "client_error"),
        (200, b"<html>", "internal"),
    ],
)
def test_responses_are_classified(status, body, kind):
    assert classify(status, body) == kind


@pytest.mark.postgres
@pytest.mark.timeout(300)
@pytest.mark.django_db(transaction=True)
def test_the_fuzzer_finds_no_internal_error(start_worker, tmp_path):
    player = UserFactory.create(username="fuzz-player")
    staff = UserFactory.create(username="fuzz-staff", is_staff=True)
    callers = {
        "anonymous": None,
        "player": issue_api_token(user=player)[1],
        "staff": issue_api_token(user=staff)[1],
    }
    server = start_worker(LEDGER_EXPORT_DIR=str(tmp_path))
    report = fuzz(f"{server.url}/graphql/", callers, examples=EXAMPLES, seed=0)
    assert report.internal == []
    assert report.total >= 16 * 3
    assert {caller for caller, kind in report.counts if kind == "data"} == set(callers)
