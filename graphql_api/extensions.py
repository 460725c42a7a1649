"""Hardening: limits, caches, error masking and introspection, as per-request factories.

Extensions are passed as factories: one instance shared by every request races across them.
Those that depend on DEBUG read it per request, so a process started with DEBUG off never
serves introspection, suggestions or unmasked errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from django.conf import settings
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.query_depth_limiter import IgnoreContext
from strawberry.types.execution import StreamExecutionResult

from graphql_api.errors import is_client_error
from graphql_api.metrics import OperationMetrics

MAX_DEPTH = 8
MAX_TOKENS = 1500
MAX_ALIASES = 15
MASKED_MESSAGE = "Unexpected error."

_SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)


def _ignore_introspection(context: IgnoreContext) -> bool:
    """Introspection (only served in DEBUG) nests ofType deeply; it does not count for depth."""
    return context.field_name.startswith("__")


def _in_production(factory: Callable[[], SchemaExtension]) -> Callable[[], SchemaExtension]:
    def build() -> SchemaExtension:
        return SchemaExtension() if settings.DEBUG else factory()

    return build


def _should_mask(error: GraphQLError) -> bool:
    return not is_client_error(error)


class HideSuggestions(SchemaExtension):
    """Strips "Did you mean …" from error messages: it names fields, arguments and types a
    client did not ask for. Through strawberry's public hooks: ``on_operation`` sees the result
    of a query or mutation (validation errors included), ``on_stream_result`` each result of a
    subscription, before either reaches the client."""

    def on_operation(self) -> Iterator[None]:
        yield
        _strip(getattr(self.execution_context.result, "errors", None))

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        _strip(getattr(result, "errors", None))
        yield


def _strip(errors: list[GraphQLError] | None) -> None:
    for error in errors or ():
        if "Did you mean" in error.message:
            error.message = _SUGGESTION.sub("", error.message)


class _BuiltOnce(AddValidationRules):
    """A limiter's validation rules, built once and handed to a fresh extension per request.

    QueryDepthLimiter and MaxAliasesLimiter define a new rule class on every construction;
    ValidationCache keys on the rule classes, so per-request limiters would never hit the
    cache. The rule classes hold no state (graphql-core instantiates them per validation).
    """


_DEPTH_RULES = QueryDepthLimiter(
    max_depth=MAX_DEPTH, should_ignore=_ignore_introspection
).validation_rules
_ALIAS_RULES = MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules


EXTENSIONS: list[Callable[[], SchemaExtension]] = [
    lambda: _BuiltOnce(_DEPTH_RULES),  # QueryDepthLimiter
    lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
    lambda: _BuiltOnce(_ALIAS_RULES),  # MaxAliasesLimiter
    _in_production(DisableIntrospection),
    _in_production(HideSuggestions),
    _in_production(
        lambda: MaskErrors(should_mask_error=_should_mask, error_message=MASKED_MESSAGE)
    ),
    lambda: ParserCache(maxsize=256),
    lambda: ValidationCache(maxsize=256),
    OperationMetrics,  # last: its hooks exit first, so it sees errors before MaskErrors
]
