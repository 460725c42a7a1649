"""GraphQL over HTTP as its spec says: ``application/graphql-response+json`` when the client
accepts it (request errors: 4xx, no ``data`` entry; that Content-Type), ``application/json``
as before otherwise; and the npm package graphql-http's own audit finds nothing to warn about."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from graphql_api.views import accepts_graphql_response
from tests.http.conftest import post_graphql

GRAPHQL_RESPONSE = "application/graphql-response+json"
STRICT = {"Accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"}
AUDIT_PACKAGES = ["graphql-http@1.23.1", "graphql@16.15.0"]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "deltacrown-graphql-http"


@pytest.mark.parametrize(
    ("accept", "strict"),
    [
        (GRAPHQL_RESPONSE, True),
        ("application/json, application/graphql-response+json;q=0.5", True),
        ("Application/GraphQL-Response+JSON", True),
        ("application/graphql-response+json;q=0", False),
        ("application/json", False),
        ("*/*", False),
        ("", False),
    ],
)
def test_the_accept_header_picks_the_media_type(accept, strict):
    assert accepts_graphql_response(accept) is strict


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ me { id ", {}),  # parse error
        ("{ noSuchField }", {}),  # validation error
        ("query Q($n: Int!) { activityFeed(first: $n) { edges { cursor } } }", {"n": "ten"}),
    ],
    ids=["parse", "validation", "variables"],
)
def test_request_errors_are_400_without_data_for_the_graphql_response_type(query, variables):
    strict = post_graphql(query, variables, headers=STRICT)
    assert strict.status == 400
    assert strict.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    body = strict.json()
    assert "data" not in body
    assert body["errors"]
    legacy = post_graphql(query, variables)
    assert legacy.status == 200
    assert legacy.headers["content-type"] == "application/json"
    assert legacy.json()["data"] is None
    assert legacy.json()["errors"] == body["errors"]


@pytest.mark.django_db(transaction=True)
def test_field_errors_and_successes_stay_200_with_data():
    ok = post_graphql("{ me { id } }", headers=STRICT)
    assert ok.status == 200
    assert ok.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert ok.json() == {"data": {"me": None}}
    missing = post_graphql('{ activityEvent(id: "999999") { id } }', headers=STRICT)
    assert missing.status == 200  # executed: a field error, with its path, and data
    body = missing.json()
    assert "data" in body
    assert body["errors"][0]["path"] == ["activityEvent"]
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.django_db(transaction=True)
def test_an_operation_name_that_is_not_a_string_is_400():
    import asyncio

    from tests.http.conftest import call_asgi

    body = json.dumps({"query": "{ me { id } }", "operationName": {"x": 1}}).encode()
    reply = asyncio.run(call_asgi(body=body, headers={"Content-Type": "application/json"}))
    assert reply.status == 400


def _graphql_http_package() -> Path:
    """graphql-http from the npm registry, installed once into a cache directory."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed")
    marker = CACHE / "node_modules" / "graphql-http" / "package.json"
    if not marker.is_file():
        reach = subprocess.run(
            [npm, "view", "graphql-http", "version"], capture_output=True, text=True, timeout=120
        )
        if reach.returncode != 0:
            pytest.skip(f"npm cannot reach its registry: {reach.stderr.strip()[-300:]}")
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", *AUDIT_PACKAGES],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return CACHE


AUDIT = """
import { serverAudits } from 'graphql-http';
const results = [];
for (const audit of serverAudits({ url: process.argv[2], fetchFn: fetch })) {
  const result = await audit.fn();
  results.push({ name: audit.name, status: result.status, reason: result.reason });
}
console.log(JSON.stringify(results));
"""


@pytest.mark.postgres
@pytest.mark.timeout(400)
@pytest.mark.django_db(transaction=True)
def test_the_graphql_http_audit_passes_without_a_warning(start_worker):
    package = _graphql_http_package()
    script = package / "audit.mjs"
    script.write_text(AUDIT)
    server = start_worker(DJANGO_DEBUG="1")  # the audit asks for __type: introspection on
    done = subprocess.run(
        ["node", str(script), f"{server.url}/graphql/"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=package,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert len(results) > 50
    assert [r for r in results if r["status"] != "ok"] == []
