"""Sources: the platform models whose rows the ledger converges to their translation.

Each platform app registers its translator once, when it is ready (DESIGN.md rule 2). The same
translator serves the live post_save receiver, backfill and reconcile, so a backfilled history is
the live one by construction (I3).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from django.db import models
from django.db.models.signals import post_save

from ledger.drafts import EventDraft
from ledger.exceptions import UnknownSourceError


class Unsettled:
    """A row whose outcome is not settled (a disputed match): leave what is recorded."""

    _instance: Unsettled | None = None

    def __new__(cls) -> Unsettled:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSETTLED"


UNSETTLED: Final = Unsettled()

Translation = Sequence[EventDraft] | Unsettled
Translator = Callable[[Any], Translation]


@dataclass(frozen=True)
class Source:
    """A platform model whose rows stand for events."""

    name: str
    model: type[models.Model]
    translate: Translator
    rows: Callable[[], models.QuerySet[Any]]
    """All rows, with what ``translate`` reads prefetched: backfill walks it in pk order."""

    def __str__(self) -> str:
        return self.name


Dependents = Callable[[Any], Sequence[tuple[Source, models.QuerySet[Any]]]]
"""For a saved row, the rows of other sources whose translation reads it, by source."""

_registry: dict[str, Source] = {}
_dependents: defaultdict[str, list[Dependents]] = defaultdict(list)


def register_source(
    *,
    name: str,
    model: type[models.Model],
    translate: Translator,
    rows: Callable[[], models.QuerySet[Any]] | None = None,
) -> Source:
    """Register a source and converge each saved row of it, and the rows that depend on it
    (``register_dependents``), in the saving transaction."""
    source = Source(
        name=name,
        model=model,
        translate=translate,
        rows=rows or (lambda: model._default_manager.all()),
    )
    _registry[name] = source

    def converge_saved_row(
        sender: type[models.Model], instance: Any, raw: bool = False, **_: Any
    ) -> None:
        if raw:  # fixture loading writes history as it was; backfill records it
            return
        from ledger.services.convergence import converge_saved

        converge_saved(source=source, row=instance)

    post_save.connect(
        converge_saved_row, sender=model, weak=False, dispatch_uid=f"ledger-source:{name}"
    )
    return source


def register_dependents(*, source: str, dependents: Dependents) -> None:
    """Whenever a row of ``source`` is saved, also re-converge the rows ``dependents`` finds for
    it: rows whose translation reads the saved one (a tournament's result lists who took part,
    so it depends on the tournament's registrations)."""
    _dependents[source].append(dependents)


def dependents_of(name: str, row: Any) -> list[tuple[Source, models.QuerySet[Any]]]:
    """What every ``register_dependents`` of source ``name`` finds for ``row``, in order."""
    return [found for find in _dependents.get(name, ()) for found in find(row)]


def get_source(name: str) -> Source:
    try:
        return _registry[name]
    except KeyError:
        valid = ", ".join(sorted(_registry)) or "(none registered)"
        raise UnknownSourceError(f"Unknown source {name!r}. Valid sources: {valid}.") from None


def all_sources() -> list[Source]:
    return [_registry[name] for name in sorted(_registry)]
