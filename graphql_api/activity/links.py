"""The objects behind events (their links), read for a whole page of events at once.

Each event type names its links (``LINKS``): which loader reads the object and which id the event
recorded for it. Whoever builds events (a feed page, ``node``/``nodes``, a correction's target, a
subscription's new edges) reads the links the query asks for in the same trip to Django's thread,
one query per kind, and sets them on the events: the link fields are then plain attributes.

Measured in bench/ (the typed page): as resolvers with a DataLoader, each link of each event cost a
strawberry ``Info`` object, a future and a task, and each kind another trip to the thread; that
was most of a typed page's time over the flat page's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from graphql_api.nodes.loaders import ContextLoader

if TYPE_CHECKING:
    from graphql_api.activity.types import ActivityEvent

Loader = type[ContextLoader[int, Any]]
LinkKey = tuple[Loader, int | None]
"""Which loader reads a link's object, and its id (None: nothing recorded, so no object)."""


@dataclass(frozen=True, slots=True)
class Link:
    """A link of an event type: the attribute it fills, and the loader and id it reads."""

    attribute: str
    key_of: Callable[[ActivityEvent], LinkKey]


def load_links(events: Sequence[ActivityEvent], names: frozenset[str]) -> None:
    """Fill every event's links among ``names`` (GraphQL field names), one query per kind of
    object. Runs on Django's thread, in the same trip as the query that found the events."""
    plan: list[tuple[ActivityEvent, str, Loader, int]] = []
    wanted: dict[Loader, set[int]] = defaultdict(set)
    for event in events:
        for name, link in event.LINKS.items():
            if name in names:
                loader, pk = link.key_of(event)
                if pk is not None:  # nothing recorded: the attribute keeps its None
                    plan.append((event, link.attribute, loader, pk))
                    wanted[loader].add(pk)
    found = {loader: loader.fetch(sorted(pks)) for loader, pks in wanted.items()}
    for event, attribute, loader, pk in plan:
        setattr(event, attribute, found[loader].get(pk))


@dataclass(frozen=True, slots=True)
class Wanted:
    """What a query asks of events: the names of the fields it selects (links among them), and
    what it asks of the events corrections cancel (``corrects``), if it asks for them."""

    fields: frozenset[str]
    corrects: Wanted | None = None


def wanted_of(info: Info, path: Iterable[str] = ()) -> Wanted:
    """What the query asks of the events at ``path`` below the current field, through
    fragments (``("edges", "node")`` below ``activityFeed``)."""
    selections: list[Selection] = [
        child for field in info.selected_fields for child in field.selections
    ]
    for name in path:
        selections = _children(selections, name)
    return _wanted(selections)


def _wanted(selections: list[Selection]) -> Wanted:
    names = frozenset(field.name for field in _fields(selections))
    corrects = _wanted(_children(selections, "corrects")) if "corrects" in names else None
    return Wanted(names, corrects)


def _children(selections: Iterable[Selection], name: str) -> list[Selection]:
    return [
        child for field in _fields(selections) if field.name == name for child in field.selections
    ]


def _fields(selections: Iterable[Selection]) -> Iterable[SelectedField]:
    for selection in selections:
        if isinstance(selection, InlineFragment | FragmentSpread):
            yield from _fields(selection.selections)
        else:
            yield selection
