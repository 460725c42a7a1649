"""Text no backend can store (a NUL, a lone surrogate), in any argument: literal or variable,
at any depth (input objects, lists, IDs), for every caller, is BAD_USER_INPUT before anything
runs, never an internal error; and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest

from graphql_api.auth.tokens import issue_api_token
from graphql_api.extensions import holds_unstorable_text
from ledger.models import LedgerJob
from tests.factories import UserFactory
from tests.http.conftest import post_graphql

pytestmark = pytest.mark.django_db(transaction=True)

NUL, SURROGATE = "a\x00b", "a\ud800b"

CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("literal", 'query { user(username: "a\\u0000") { id } }', {}),
    ("variable", "query Q($u: String!) { user(username: $u) { id } }", {"u": NUL}),
    ("surrogate", "query Q($u: String!) { user(username: $u) { id } }", {"u": SURROGATE}),
    ("ID", "query Q($id: ID!) { activityEvent(id: $id) { id } }", {"id": "1\x00"}),
    ("ID literal", 'query { stats(userId: "1\\u0000") { matchesPlayed } }', {}),
    (
        "list in an input object",
        "mutation M($s: [String!]) { backfillActivity(input: {sources: $s}) { id } }",
        {"s": ["tournaments.match", NUL]},
    ),
    (
        "input object variable",
        "mutation M($i: ReconcileStatsInput!) { reconcileStats(input: $i) { id } }",
        {"i": {"userIds": ["1", "2\x00"], "fix": False}},
    ),
    (
        "literal in a list in an input object",
        'mutation { backfillActivity(input: {sources: ["ok", "x\\u0000"]}) { id } }',
        {},
    ),
]


@pytest.mark.parametrize(("case", "query", "variables"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("caller", ["anonymous", "player", "staff"])
def test_unstorable_text_is_bad_user_input_for_every_caller(case, query, variables, caller):
    token = None
    if caller != "anonymous":
        user = UserFactory.create(is_staff=caller == "staff")
        token = issue_api_token(user=user)[1]
    reply = post_graphql(query, variables, token=token)
    assert reply.status == 200
    body = reply.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "NUL" in error["message"]
    strict = post_graphql(
        query, variables, token=token, headers={"Accept": "application/graphql-response+json"}
    )
    assert strict.status == 400
    assert "data" not in strict.json()
    assert not LedgerJob.objects.exists()


def test_ordinary_text_passes():
    reply = post_graphql("query Q($u: String!) { user(username: $u) { id } }", {"u": "ünï ☃ 𝄞"})
    assert reply.json() == {"data": {"user": None}}


@pytest.mark.parametrize(
    ("value", "unstorable"),
    [
        ("plain", False),
        ({"a": [1, None, True, {"b": "x"}]}, False),
        ({"a": [1, {"b": "x\x00"}]}, True),
        (["\udfff"], True),
        ("𝄞", False),  # a surrogate pair in UTF-16 is one code point here: storable
        (None, False),
    ],
)
def test_the_walk_finds_unstorable_text_at_any_depth(value, unstorable):
    assert holds_unstorable_text(value) is unstorable
