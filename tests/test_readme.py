"""The README's GraphQL examples are what a newcomer pastes first: each must be valid against
the schema and use nothing deprecated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import parse, specified_rules, validate
from graphql.validation import NoDeprecatedCustomRule

from graphql_api.schema import schema

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLES = re.findall(r"```graphql\n(.*?)```", README.read_text(), re.DOTALL)


def test_the_readme_has_graphql_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda text: text.split("{")[0].strip())
def test_each_example_is_valid_and_uses_nothing_deprecated(example: str) -> None:
    rules = [*specified_rules, NoDeprecatedCustomRule]
    errors = validate(schema._schema, parse(example), rules)
    assert [error.message for error in errors] == []
