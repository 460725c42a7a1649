"""The execution shortcut (``graphql_api/execution.py``) answers exactly as graphql-core's own
path does, data, errors and key order alike, and is taken where it should be; the graphql-core
and strawberry internals it relies on are pinned here, so that an upgrade that moves them fails
a test instead of a request."""

from __future__ import annotations

import asyncio
import enum
import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest
import strawberry
from django.contrib.auth import get_user_model
from graphql import GraphQLError
from graphql.execution.executor import Executor
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import CustomGraphQLEnumType, GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from bench.scenarios.http import FEED  # the page the HTTP benchmark measures
from esports.demo import load_demo_data
from graphql_api.execution import LedgerExecutionContext, basic_leaf
from graphql_api.schema import schema
from tests.factories import UserFactory
from tests.graphql_api.conftest import make_events
from tests.graphql_api.typed_feed import TYPED_FEED

User = get_user_model()

README = Path(__file__).resolve().parents[2] / "README.md"
README_QUERIES = [
    example
    for example in re.findall(r"```graphql\n(.*?)```", README.read_text(), re.DOTALL)
    if example.lstrip().startswith(("query", "{"))  # a mutation run twice answers otherwise
]


@pytest.fixture
def both_ways(graphql: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run an operation through the view with the shortcut, then with graphql-core's own
    execution context; return both JSON documents as text (key order counts)."""

    def run(query: str, variables: dict[str, Any], **caller: Any) -> tuple[str, str]:
        shortcut = graphql(query, variables, **caller)
        with monkeypatch.context() as patch:
            patch.setattr(schema, "execution_context_class", StrawberryGraphQLCoreExecutionContext)
            plain = graphql(query, variables, **caller)
        return json.dumps(shortcut), json.dumps(plain)

    return run


@pytest.mark.django_db
def test_the_demo_reads_the_same_both_ways(both_ways: Any) -> None:
    load_demo_data()
    staff = UserFactory.create(username="ops", is_staff=True)
    alice = User.objects.get(username="alice")
    bob = User.objects.get(username="bob")
    variables = {
        "userId": str(alice.pk),
        "alice": str(alice.pk),
        "bob": str(bob.pk),
        "first": 100,
        "after": None,
    }
    for viewer in (staff, alice, bob, None):
        caller = {"user": viewer} if viewer else {}
        for query in (TYPED_FEED, FEED, *README_QUERIES):
            shortcut, plain = both_ways(query, variables, **caller)
            assert shortcut == plain
            assert '"errors"' not in shortcut or viewer is None, shortcut


@pytest.mark.django_db
def test_a_feed_page_builds_info_only_for_its_objects(
    graphql: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shortcut is taken: a page of 50 builds an info for the page, its lists and each
    node (53), not for each of its ~550 fields; the plain path builds one a field."""
    player = UserFactory.create()
    make_events(player, 50)
    built: list[str] = []
    original = StrawberryGraphQLCoreExecutionContext.build_resolve_info

    def counting(self: Any, field_def: Any, *args: Any) -> Any:
        info = original(self, field_def, *args)
        built.append(info.field_name)
        return info

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "build_resolve_info", counting)
    result = graphql(FEED, {"first": 50}, user=player)
    assert len(result["data"]["activityFeed"]["edges"]) == 50
    assert sorted(set(built)) == ["activityFeed", "edges", "node", "pageInfo"]
    assert len(built) == 53
    built.clear()
    monkeypatch.setattr(schema, "execution_context_class", StrawberryGraphQLCoreExecutionContext)
    graphql(FEED, {"first": 50}, user=player)
    assert len(built) > 500


# A schema of its own for what the demo never does: nulls where none may be, values that do not
# coerce, reads that raise, awaitables.


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Thing:
    name: str
    nickname: str | None
    colour: Colour
    shade: Colour | None
    count: int
    ratio: float | None


class Broken:
    """A source whose reads go wrong in every way a basic field's read can."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    @property
    def count(self) -> int:
        raise RuntimeError("count is broken")


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing | None]:
        return [
            Thing(name="a", nickname=None, colour=Colour.RED, shade=None, count=1, ratio=0.5),
            Broken(name=None, nickname=7, colour="GREEN", shade=Colour.BLUE, ratio="x"),  # type: ignore[list-item]
            Broken(name="c", nickname=["no"], colour=Colour.BLUE, shade="red", ratio=2**70),  # type: ignore[list-item]
        ]

    @strawberry.field
    async def later(self) -> list[Thing]:
        await asyncio.sleep(0)
        return [Thing(name="d", nickname="n", colour=Colour.BLUE, shade=None, count=3, ratio=1.0)]


ODD_QUERIES = [
    # (query, how many errors graphql-core reports)
    ("{ things { name nickname colour shade count ratio } }", 3),
    ("{ things { __typename nickname shade ratio } }", 2),
    ("{ things { b: name a: nickname name ...F } } fragment F on Thing { colour nickname }", 3),
    ("query($no: Boolean!) { things { name @include(if: $no) nickname @skip(if: $no) shade } }", 1),
    ("{ later { name nickname colour shade count ratio } things { shade } }", 0),
]


def _answer(result: Any) -> tuple[str, list[tuple[str, Any, Any]]]:
    errors: list[GraphQLError] = result.errors or []
    return json.dumps(result.data), [(e.message, e.path, e.locations) for e in errors]


@pytest.mark.parametrize(("query", "errors"), ODD_QUERIES)
def test_odd_values_and_errors_answer_the_same_both_ways(query: str, errors: int) -> None:
    ours = strawberry.Schema(query=Query, execution_context_class=LedgerExecutionContext)
    theirs = strawberry.Schema(query=Query)
    variables = {"no": False}
    shortcut = asyncio.run(ours.execute(query, variable_values=variables))
    plain = asyncio.run(theirs.execute(query, variable_values=variables))
    assert _answer(shortcut) == _answer(plain)
    assert len(plain.errors or []) == errors


def test_the_internals_it_relies_on_are_where_they_were() -> None:
    """graphql-core: ``execute_fields``' parameters and the basic resolver's marker that
    strawberry sets; strawberry: the field behind a GraphQL field, ``get_result`` reading the
    attribute named ``python_name`` with ``getattr``, and its enum type's members."""
    parameters = list(inspect.signature(Executor.execute_fields).parameters)
    assert parameters == [
        "self",
        "parent_type",
        "source_value",
        "path",
        "grouped_field_set",
        "position_context",
    ]
    graphql_schema = strawberry.Schema(query=Query)._schema
    thing = graphql_schema.get_type("Thing")
    name = thing.fields["name"]
    assert getattr(name.resolve, "_is_default", False)
    definition = name.extensions[GraphQLCoreConverter.DEFINITION_BACKREF]
    assert isinstance(definition, StrawberryField)
    assert definition.python_name == "name"
    assert definition.default_resolver is getattr
    assert definition.get_result(Broken(name="x"), None, [], {}) == "x"
    colour = graphql_schema.get_type("Colour")
    assert isinstance(colour, CustomGraphQLEnumType)
    assert colour.wrapped_cls is Colour
    assert {n: v.value for n, v in colour.values.items()} == {"RED": "red", "BLUE": "blue"}
    leaf = basic_leaf(thing.fields["colour"])
    assert leaf is not None
    assert leaf.coerce(Colour.BLUE) == "BLUE"
    assert not leaf.nullable
    assert basic_leaf(graphql_schema.query_type.fields["things"]) is None
