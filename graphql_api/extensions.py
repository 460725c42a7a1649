"""Hardening: limits, caches, error masking and introspection, as per-request factories.

Extensions are passed as factories: one instance shared by every request races across them.
Those that depend on DEBUG read it per request, so a process started with DEBUG off never
serves introspection, suggestions or unmasked errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from django.conf import settings
from graphql import DocumentNode, GraphQLError, StringValueNode, Visitor, visit
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

from graphql_api.errors import BadInput, is_client_error
from graphql_api.metrics import OperationMetrics
from graphql_api.replica import ReadRouting

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


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""PostgreSQL's text cannot hold NUL, and UTF-8 cannot encode a lone surrogate."""
UNSTORABLE_MESSAGE = "Text arguments may not contain NUL characters or lone surrogates."
_MEMO_SIZE = 512


def holds_unstorable_text(value: object) -> bool:
    """Any string in a (nested) JSON value that no backend could store."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(holds_unstorable_text(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_unstorable_text(v) for v in value)
    return False


class _StringLiterals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.unstorable = False

    def enter_string_value(self, node: StringValueNode, *_: object) -> None:
        if _UNSTORABLE.search(node.value):
            self.unstorable = True


_literal_memo: dict[str, bool] = {}


def _literals_unstorable(query: str, document: DocumentNode) -> bool:
    """Memoized by query text (the parser cache hands out one document per text)."""
    found = _literal_memo.get(query)
    if found is None:
        visitor = _StringLiterals()
        visit(document, visitor)
        found = visitor.unstorable
        if len(_literal_memo) >= _MEMO_SIZE:
            _literal_memo.clear()
        _literal_memo[query] = found
    return found


class StorableText(SchemaExtension):
    """Every string argument, literal or variable, at any depth (input objects, lists, IDs),
    is text the database can store; else BAD_USER_INPUT before anything runs. One check for
    all resolvers, instead of a DataError deep in one of them (masked as internal)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if (
            not context.pre_execution_errors
            and document is not None
            and (
                holds_unstorable_text(context.variables)
                or _literals_unstorable(context.query or "", document)
            )
        ):
            # a new list: the one ValidationCache set is its cached value
            context.pre_execution_errors = [BadInput(UNSTORABLE_MESSAGE)]
        yield


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
    StorableText,  # after ValidationCache: its on_validate sets the errors this one extends
    ReadRouting,  # replica or primary for the operation's reads (docs/decisions/0019)
    OperationMetrics,  # last: its hooks exit first, so it sees errors before MaskErrors
]
