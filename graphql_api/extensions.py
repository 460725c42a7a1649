"""Hardening: limits, caches, error masking and introspection, as per-request factories.

Extensions are passed as factories: one instance shared by every request races across them.
Those that depend on DEBUG read it per request, so a process started with DEBUG off never
serves introspection, suggestions or unmasked errors.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator

from django.conf import settings
from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    StringValueNode,
    Visitor,
    visit,
)
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.extensions.query_depth_limiter import IgnoreContext
from strawberry.schema.schema import validate_document
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


def _should_mask(error: GraphQLError) -> bool:
    return not is_client_error(error)


class Limits(AddValidationRules):
    """Depth, aliases and tokens (and, in production, no introspection) in one extension.

    One extension instead of four: strawberry builds every extension and enters each of its
    hooks per operation (py-spy: its extension set-up was a tenth of a stats request). The
    rule classes are built once: ``QueryDepthLimiter`` and ``MaxAliasesLimiter`` define a new
    rule class on every construction, and ``ValidationCache`` keys on the rule classes, so
    per-request limiters would never hit the cache. The rules hold no state (graphql-core
    instantiates them per validation).
    """

    def __init__(self) -> None:
        super().__init__(_DEBUG_RULES if settings.DEBUG else _PRODUCTION_RULES)

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = MAX_TOKENS  # as MaxTokensLimiter
        yield from super().on_operation()


_DEBUG_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH, should_ignore=_ignore_introspection).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]
_PRODUCTION_RULES = [*_DEBUG_RULES, *DisableIntrospection().validation_rules]


class MaskErrorsAndSuggestions(MaskErrors):
    """Masks server errors and strips "Did you mean …" from client errors (it names fields,
    arguments and types a client did not ask for), for a query's or mutation's result
    (validation errors included) and for each result of a subscription."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_should_mask, error_message=MASKED_MESSAGE)

    def on_operation(self) -> Iterator[None]:
        yield from super().on_operation()
        _strip(getattr(self.execution_context.result, "errors", None))

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        _strip(getattr(result, "errors", None))
        yield from super().on_stream_result(result)

    def _process_result(self, result: object) -> None:
        """``MaskErrors``'s, without its ``isinstance`` against a runtime-checkable protocol:
        ``typing`` walks the protocol's members on every call (about 2% of a stats request's
        time, py-spy)."""
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]


def _strip(errors: list[GraphQLError] | None) -> None:
    for error in errors or ():
        if "Did you mean" in error.message:
            error.message = _SUGGESTION.sub("", error.message)


class QueryText:
    """A parsed query as a cache key: hashed and compared by its text, which is cached by
    Python's ``str``. A document's own hash walks every node and location of it: graphql-core
    3.3's nodes are frozen dataclasses (the stats query's, 88 of them, about 2% of its request,
    callgrind)."""

    __slots__ = ("document", "text")

    def __init__(self, text: str, document: DocumentNode) -> None:
        self.text = text
        self.document = document

    def __hash__(self) -> int:
        return hash(self.text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, QueryText) and other.text == self.text


@functools.lru_cache(maxsize=256)
def _validate(
    schema: GraphQLSchema, query: QueryText, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    return validate_document(schema, query.document, rules)


class ValidationCacheByText(SchemaExtension):
    """Strawberry's ``ValidationCache``, keyed by the query's text (``QueryText``) instead of
    its document. The parser cache, listed before it, hands out one document per text, so both
    keys name the same validation. Its errors list is shared by every hit: extend a copy."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if context.query is not None and document is not None:
            context.pre_execution_errors = _validate(
                context.schema._schema, QueryText(context.query, document), context.validation_rules
            )
        yield


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


def _in_production(factory: Callable[[], SchemaExtension]) -> Callable[[], SchemaExtension]:
    def build() -> SchemaExtension:
        return SchemaExtension() if settings.DEBUG else factory()

    return build


EXTENSIONS: list[Callable[[], SchemaExtension]] = [
    Limits,
    _in_production(MaskErrorsAndSuggestions),
    lambda: ParserCache(maxsize=256),
    ValidationCacheByText,
    StorableText,  # after ValidationCacheByText: its on_validate sets the errors this one extends
    ReadRouting,  # replica or primary for the operation's reads (docs/decisions/0019)
    OperationMetrics,  # last: its hooks exit first, so it sees errors before MaskErrors
]
