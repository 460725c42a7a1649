"""The field class of the platform's strawberry-django types: a model column, or a foreign key,
resolves as a basic field (strawberry reads the attribute, with no ``Info`` object or resolver
chain).

strawberry-django marks every field non-basic, since a relation or a deferred column may need
the database. Our loaders read whole rows, with the foreign keys a type shows
(``select_related``), so the value is on the instance; a foreign key that was not read still
loads (strawberry-django's resolver, called without ``Info``, goes to the database on Django's
thread). To-many relations keep strawberry-django's own resolution. Measured in bench/ (the typed
page): strawberry's per-field ``Info`` and extension chain were the largest cost of resolving the
objects behind a page of events.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

import strawberry_django
from django.db.models import Model
from strawberry.types import Info
from strawberry_django.fields.field import StrawberryDjangoField

T = TypeVar("T")


class ColumnField(StrawberryDjangoField):
    @property
    def is_basic_field(self) -> bool:
        return not self.base_resolver and not self.extensions and self._on_the_row

    def get_result(
        self, source: Model | None, info: Info | None, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        """A column resolved as a basic field (no ``Info``) is the attribute itself, and so is a
        foreign key read with its row; anything else is strawberry-django's to resolve."""
        if info is None and source is not None:
            name = self.django_name or self.python_name
            if not self.is_relation or getattr(type(source), name).is_cached(source):
                return getattr(source, name)
        return super().get_result(source, info, args, kwargs)

    @cached_property
    def _on_the_row(self) -> bool:
        """A concrete field of the model: a column or a foreign key, not a reverse relation."""
        definition = self.origin_django_type
        if definition is None or not self.django_name:
            return False
        return bool(definition.model._meta.get_field(self.django_name).concrete)


def platform_node(
    model: type[Model], *, name: str, description: str
) -> Callable[[type[T]], type[T]]:
    """A platform model as a Relay node type: its columns and foreign keys as ``ColumnField``s,
    and an ``is_type_of`` that is an instance check of the model.

    strawberry-django's own ``is_type_of`` also looks for a ``strawberry.cast`` and asks the Node
    interface first; graphql-core calls it for every object of a page (and to pick a union's
    member)."""

    def decorate(cls: type[T]) -> type[T]:
        is_type_of = classmethod(lambda _node, obj, info: isinstance(obj, model))
        setattr(cls, "is_type_of", is_type_of)  # noqa: B010  # before strawberry reads the class
        return strawberry_django.type(
            model, field_cls=ColumnField, name=name, description=description
        )(cls)

    return decorate
