"""Personal data the platform's apps keep about a user beside the ledger, which the ledger's
GDPR operations reach as well: an app registers how to export it and how to erase it, as it
registers its sources (the ledger imports nothing of theirs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PersonalData:
    """One kind of a user's data kept by an app: ``export`` returns it as JSON-ready values,
    ``erase`` deletes it (inside the erasure's transaction)."""

    name: str
    export: Callable[..., Any]
    erase: Callable[..., Any]


_registry: dict[str, PersonalData] = {}


def register_personal_data(
    *, name: str, export: Callable[..., Any], erase: Callable[..., Any]
) -> None:
    """Register ``export(user_id=...)`` and ``erase(user_id=...)`` under ``name``: the export
    document gets a ``name`` key, and ``anonymize_user`` calls ``erase``."""
    _registry[name] = PersonalData(name=name, export=export, erase=erase)


def all_personal_data() -> list[PersonalData]:
    return [_registry[name] for name in sorted(_registry)]
