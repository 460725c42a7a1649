"""The API's read-your-writes marker, and that without a replica the API marks nothing and reads
only the primary (tests/graphql_api/test_replica_reads.py runs against a real replica)."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory

from graphql_api.replica import MARKER_COOKIE, MARKER_HEADER, write_marker, wrote_recently
from tests.factories import UserFactory
from tests.graphql_api.conftest import signed_in_client

pytestmark = pytest.mark.django_db


def test_without_a_replica_a_mutation_is_not_marked(settings, tmp_path):
    settings.LEDGER_EXPORT_DIR = tmp_path
    player = UserFactory.create(username="ann")
    client = signed_in_client(player)
    response = client.post(
        "/graphql/",
        data=json.dumps({"query": "mutation { exportMyData { status } }"}),
        content_type="application/json",
    )
    assert response.json() == {"data": {"exportMyData": {"status": "SUCCEEDED"}}}
    assert MARKER_HEADER not in response
    assert MARKER_COOKIE not in response.cookies


def test_a_marker_holds_for_its_viewer_only_from_cookie_or_header():
    ann, bob = UserFactory.create(username="ann"), UserFactory.create(username="bob")
    marker = write_marker(ann)
    by_cookie = RequestFactory().get("/graphql/")
    by_cookie.COOKIES[MARKER_COOKIE] = marker
    by_header = RequestFactory().get("/graphql/", headers={MARKER_HEADER: marker})
    assert [wrote_recently(r, ann) for r in (by_cookie, by_header)] == [True, True]
    assert [wrote_recently(r, bob) for r in (by_cookie, by_header)] == [False, False]
    assert wrote_recently(RequestFactory().get("/graphql/"), ann) is False
