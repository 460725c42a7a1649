"""Each limit gets the hostile query it exists for, and refuses it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from graphql_api.extensions import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS
from graphql_api.schema import MULTIPLE_OPERATIONS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def messages(result):
    return [error["message"] for error in result.get("errors", [])]


def test_a_query_deeper_than_the_limit_is_refused(graphql):
    deep = (
        "{ me " + "{ profile " * (MAX_DEPTH + 2) + "{ displayName }" + " }" * (MAX_DEPTH + 2) + " }"
    )
    result = graphql(deep)
    assert result["data"] is None
    assert any("exceeds maximum operation depth" in m for m in messages(result))


def test_a_legitimately_deep_query_passes(graphql):
    user = UserFactory.create()
    query = (
        "{ leaderboard(by: MATCHES_WON) { edges { node { user { profile { displayName } } } } } }"
    )
    assert "errors" not in graphql(query, user=user)


def test_a_query_with_too_many_tokens_is_refused(graphql):
    query = "{ me { " + "id " * (MAX_TOKENS + 10) + "} }"
    result = graphql(query)
    assert result["data"] is None
    assert any("tokens" in m for m in messages(result))


def test_a_query_with_too_many_aliases_is_refused(graphql):
    fields = " ".join(f"a{i}: me {{ id }}" for i in range(MAX_ALIASES + 1))
    result = graphql("{ " + fields + " }")
    assert result["data"] is None
    assert any("aliases" in m for m in messages(result))
    ok = " ".join(f"a{i}: me {{ id }}" for i in range(MAX_ALIASES))
    assert "errors" not in graphql("{ " + ok + " }")


def test_introspection_is_off_in_production_and_on_in_debug(graphql, settings):
    query = "{ __schema { queryType { name } } }"
    settings.DEBUG = False
    refused = graphql(query)
    assert refused["data"] is None
    assert any("introspection" in m.lower() for m in messages(refused))
    settings.DEBUG = True
    assert graphql(query)["data"] == {"__schema": {"queryType": {"name": "Query"}}}


def test_field_suggestions_are_off_in_production(graphql, settings):
    settings.DEBUG = False
    result = graphql("{ mee { id } }")
    assert messages(result) == ["Cannot query field 'mee' on type 'Query'."]
    settings.DEBUG = True
    assert "Did you mean 'me'?" in graphql("{ mee { id } }")["errors"][0]["message"]


def _explode(**kwargs):
    raise RuntimeError('relation "ledger_userprofilestats" SELECT secret FROM internals')


def test_server_errors_are_masked_in_production(graphql, settings, monkeypatch):
    monkeypatch.setattr("graphql_api.stats.queries.existing_user_stats", _explode)
    user = UserFactory.create()
    settings.DEBUG = False
    result = graphql("{ stats { matchesWon } }", user=user)
    assert messages(result) == ["Unexpected error."]
    assert "secret" not in str(result)
    assert "extensions" not in result["errors"][0] or "stacktrace" not in str(result)
    settings.DEBUG = True
    assert "secret" in graphql("{ stats { matchesWon } }", user=user)["errors"][0]["message"]


def test_client_errors_stay_readable_in_production(graphql, settings):
    settings.DEBUG = False
    result = graphql('{ activityFeed(userId: "1", after: "garbage") { edges { cursor } } }')
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "cursor" in result["errors"][0]["message"]


def test_graphiql_is_served_only_in_debug(client, settings):
    settings.DEBUG = False
    assert client.get("/graphql/", headers={"Accept": "text/html"}).status_code == 404
    settings.DEBUG = True
    page = client.get("/graphql/", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert b"graphiql" in page.content.lower()


def test_mutations_over_get_are_refused(client):
    response = client.get("/graphql/", {"query": "mutation { exportMyData { id } }"})
    assert response.status_code == 400
    assert response.content == b"mutations are not allowed when using GET"


@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
def test_subscriptions_over_http_are_refused_as_the_clients_error(client, accept):
    """A subscription is served on the WebSocket; over HTTP it used to run as a query and fail
    as "Unexpected error." (found by running the README's examples both ways)."""
    client.force_login(UserFactory.create())
    query = "subscription { activityAdded { cursor } }"
    posted = client.post(
        "/graphql/",
        data=json.dumps({"query": query}),
        content_type="application/json",
        headers={"Accept": accept},
    )
    assert (posted.status_code, posted.content) == (
        400,
        b"subscriptions are not allowed when using POST",
    )
    got = client.get("/graphql/", {"query": query}, headers={"Accept": accept})
    assert (got.status_code, got.content) == (400, b"subscriptions are not allowed when using GET")


@pytest.mark.parametrize(
    ("accept", "status"), [("application/json", 200), ("application/graphql-response+json", 400)]
)
def test_several_operations_need_an_operation_name(client, accept, status):
    """The spec's GetOperation; strawberry ran the first operation instead."""
    document = "query A { __typename } query B { me { username } }"

    def post(**extra: str) -> Any:
        body = json.dumps({"query": document, **extra})
        return client.post(
            "/graphql/", data=body, content_type="application/json", headers={"Accept": accept}
        )

    refused = post()
    assert refused.status_code == status
    assert refused.json()["errors"] == [{"message": MULTIPLE_OPERATIONS}]
    assert "data" not in refused.json() or refused.json()["data"] is None
    chosen = post(operationName="A")
    assert (chosen.status_code, chosen.json()) == (200, {"data": {"__typename": "Query"}})
    single = client.post(
        "/graphql/",
        data=json.dumps({"query": "query A { __typename }"}),
        content_type="application/json",
    )
    assert single.json() == {"data": {"__typename": "Query"}}


def test_the_operation_count_stops_at_the_token_limit(graphql):
    """Counting operations for a missing operationName must not read a document past the
    limit that strawberry's parse applies: such a document gets the token-limit error."""
    many = "query A { __typename } " * (MAX_TOKENS // 4 + 1)
    assert any("token" in m.lower() for m in messages(graphql(many)))


def test_repeated_queries_hit_the_parser_and_validation_caches(graphql, monkeypatch):
    from graphql import DocumentNode
    from strawberry.extensions.parser_cache import _get_parse_cache

    from graphql_api.extensions import _validate

    def hits(cache: Any) -> int:
        return int(cache.cache_info().hits)

    query = "{ leaderboard(by: TOTAL_EARNED, first: 3) { edges { cursor } } }"
    graphql(query)
    parsed, validated = hits(_get_parse_cache(256)), hits(_validate)

    def walked(document: DocumentNode) -> int:
        raise AssertionError("the validation cache hashed a whole document")

    monkeypatch.setattr(DocumentNode, "__hash__", walked)
    graphql(query)
    assert hits(_get_parse_cache(256)) == parsed + 1
    assert hits(_validate) == validated + 1


def test_the_validation_cache_tells_texts_apart(graphql):
    """Keyed by text: a second query is validated on its own, its errors are its own."""
    good = "{ leaderboard(by: TOTAL_EARNED, first: 3) { edges { cursor } } }"
    assert "errors" not in graphql(good)
    body = graphql(good.replace("cursor", "nope"))
    assert body["errors"][0]["message"].startswith("Cannot query field 'nope'")
    assert "errors" not in graphql(good)


def test_only_server_errors_are_logged(graphql, monkeypatch, caplog):
    user = UserFactory.create()
    with caplog.at_level("ERROR", logger="strawberry.execution"):
        graphql('{ activityFeed(after: "garbage") { edges { cursor } } }', user=user)
    assert caplog.records == []
    monkeypatch.setattr("graphql_api.stats.queries.existing_user_stats", _explode)
    with caplog.at_level("ERROR", logger="strawberry.execution"):
        graphql("{ stats { matchesWon } }", user=user)
    assert len(caplog.records) == 1
    assert "secret" in caplog.records[0].getMessage()
