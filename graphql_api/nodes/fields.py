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

from functools import cached_property
from typing import Any

from django.db.models import Model
from strawberry.types import Info
from strawberry_django.fields.field import StrawberryDjangoField


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


def instances_of(model: type[Model]) -> Any:
    """An ``is_type_of`` for a platform type: an instance of its model.

    strawberry-django's own also looks for a ``strawberry.cast`` and asks the Node interface
    first; graphql-core calls it for every object of a page (and to pick a union's member)."""
    return classmethod(lambda cls, obj, info: isinstance(obj, model))
