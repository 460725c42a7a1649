"""How graphql-core executes our operations: its own algorithm, with one shortcut for the field
that dominates a feed page.

A page of 50 events is about 550 fields, and nearly all of them are scalars read straight off
an object (``timestamp``, ``amount``, ``cursor``...). For each one graphql-core builds a
``GraphQLResolveInfo`` (strawberry's subclass, 15 attributes) and a path entry, calls
strawberry's resolver wrapper, checks for an awaitable and walks ``complete_value``, and
strawberry's enum type finds an output name by scanning the enum's values; cProfile of a feed
request put that machinery at about two thirds of the page's CPU. A *basic* field (strawberry's
term: no resolver, no extension, marked ``_is_default``; here also no arguments) never reads
the info, so for a scalar or enum result the shortcut reads the value and coerces it as
``complete_leaf_value`` does, and builds nothing else.

Anything the shortcut does not own takes graphql-core's own path, so that errors are located
and reported exactly as before: a read that raises, a value that does not coerce, a null for a
non-null field, an awaitable, arguments, schema middleware (an extension with a ``resolve``
hook). A basic field's read is an attribute read, so reading it a second time on that path has
no effect. ``tests/graphql_api/test_execution.py`` runs operations both ways and pins the
graphql-core and strawberry internals this relies on.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from enum import Enum
from typing import Any, NamedTuple

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.incremental.incremental_executor import DeliveryGroupMap
from graphql.pyutils import AwaitableOrValue, Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import CustomGraphQLEnumType, GraphQLCoreConverter
from strawberry.types.field import StrawberryField

_FALLBACK = object()


class BasicLeaf(NamedTuple):
    """A field the shortcut may read: how to read and coerce it, whether null is allowed, and
    whether the read may answer with an awaitable."""

    read: Callable[[object], object]
    coerce: Callable[[object], object]
    nullable: bool
    may_await: bool


def basic_leaf(field: GraphQLField) -> BasicLeaf | None:
    """The field as the shortcut reads it, or None when it is not a basic scalar or enum field."""
    resolve = field.resolve
    if field.args or resolve is None or not getattr(resolve, "_is_default", False):
        return None
    field_type = field.type
    nullable = not isinstance(field_type, GraphQLNonNull)
    if isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    if not isinstance(field_type, GraphQLScalarType | GraphQLEnumType):
        return None
    attribute = _plain_attribute(field)
    if attribute is not None:
        return BasicLeaf(operator.attrgetter(attribute), _coercer(field_type), nullable, False)
    return BasicLeaf(lambda source: resolve(source, None), _coercer(field_type), nullable, True)


def _plain_attribute(field: GraphQLField) -> str | None:
    """The attribute strawberry's own ``get_result`` would read with ``getattr`` (its default
    resolver, no resolver of the field's own), or None when the field reads otherwise (as
    strawberry-django's fields do, which may answer with an awaitable)."""
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if (
        isinstance(definition, StrawberryField)
        and type(definition).get_result is StrawberryField.get_result
        and definition.base_resolver is None
        and definition.default_resolver is getattr
    ):
        return definition.python_name
    return None


def _coercer(leaf: GraphQLLeafType) -> Callable[[object], object]:
    """The type's ``coerce_output_value``; for strawberry's enums, a lookup by the member's
    value where strawberry scans the enum's values for each one."""
    if not isinstance(leaf, CustomGraphQLEnumType):
        return leaf.coerce_output_value
    names = {value.value: name for name, value in leaf.values.items()}
    members = leaf.wrapped_cls
    coerce = leaf.coerce_output_value

    def coerce_enum(value: object) -> object:
        if isinstance(value, members) and isinstance(value, Enum):
            name = names.get(value.value)
            if name is not None:
                return name
        return coerce(value)

    return coerce_enum


class LedgerExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution, reading basic scalar fields without building their info."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # graphql-core collects a selection once per operation and hands the same grouped
        # field set for every object of a list: its plan is worked out once too. An entry
        # keeps its field set alive, so an identity is never reused while this context lives.
        self._plans: dict[tuple[int, int], tuple[GroupedFieldSet, _Plan]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: object,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: DeliveryGroupMap | None,
    ) -> AwaitableOrValue[dict[str, object]]:
        """The leaves read here; every other field, and every leaf the shortcut does not own,
        executed by graphql-core; the result keeps the selection's order."""
        if self.middleware_manager and self.middleware_manager.middlewares:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        read: dict[str, object] = {}
        rest: GroupedFieldSet = {}
        for response_name, leaf, field_details_list in self._plan(parent_type, grouped_field_set):
            if leaf is not None:
                value = self._read_leaf(leaf, source_value)
                if value is not _FALLBACK:
                    read[response_name] = value
                    continue
            rest[response_name] = field_details_list
        if not rest:
            return read
        executed = super().execute_fields(parent_type, source_value, path, rest, position_context)
        if not read:
            return executed
        if self.is_awaitable(executed):

            async def merged() -> dict[str, object]:
                return _in_order(grouped_field_set, read, await executed)

            return merged()
        return _in_order(grouped_field_set, read, executed)  # type: ignore[arg-type]

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet) -> _Plan:
        """Each field of the selection with its ``BasicLeaf`` (None: graphql-core's)."""
        key = (id(parent_type), id(grouped_field_set))
        known = self._plans.get(key)
        if known is None:
            plan = tuple(
                (name, _leaf_of(parent_type, details[0].node), details)
                for name, details in grouped_field_set.items()
            )
            known = self._plans[key] = (grouped_field_set, plan)
        return known[1]

    def _read_leaf(self, leaf: BasicLeaf, source: object) -> object:
        """The leaf's coerced value, or ``_FALLBACK`` where graphql-core must answer."""
        try:
            result = leaf.read(source)
            if result is None or result is Undefined:
                return None if leaf.nullable else _FALLBACK  # the error is graphql-core's
            if isinstance(result, Exception) or (leaf.may_await and self.is_awaitable(result)):
                return _FALLBACK
            coerced = leaf.coerce(result)
        except Exception:  # located and reported by graphql-core's own path
            return _FALLBACK
        return _FALLBACK if coerced is None or coerced is Undefined else coerced


_Plan = tuple[tuple[str, BasicLeaf | None, FieldDetailsList], ...]


def _leaf_of(parent_type: GraphQLObjectType, node: FieldNode) -> BasicLeaf | None:
    """The field's ``BasicLeaf`` when this selection of it may take the shortcut."""
    return None if node.arguments else _basic_leaves.get(parent_type, node.name.value)


def _in_order(
    grouped_field_set: GroupedFieldSet, read: dict[str, object], executed: dict[str, object]
) -> dict[str, object]:
    """Both halves' results in the selection's order (a field graphql-core left out, as it
    does an unknown one, stays out)."""
    return {
        name: read[name] if name in read else executed[name]
        for name in grouped_field_set
        if name in read or name in executed
    }


class _BasicLeaves:
    """``basic_leaf`` of each (type, field name), worked out once. Keyed by the type's identity
    (graphql-core's types compare by value and do not hash); an entry keeps its type alive, so
    an identity is never reused."""

    def __init__(self) -> None:
        self._known: dict[tuple[int, str], tuple[GraphQLObjectType, BasicLeaf | None]] = {}

    def get(self, parent_type: GraphQLObjectType, name: str) -> BasicLeaf | None:
        key = (id(parent_type), name)
        known = self._known.get(key)
        if known is None:
            field = parent_type.fields.get(name)
            known = self._known[key] = (parent_type, basic_leaf(field) if field else None)
        return known[1]


_basic_leaves = _BasicLeaves()
