"""One recorder per backend, chosen in one place; nothing else asks which backend it runs on."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from ledger.recorders import recorder
from ledger.recorders.portable import PortableRecorder
from ledger.recorders.postgresql import PostgreSQLRecorder

ROOT = Path(__file__).resolve().parents[2]


def test_the_connection_picks_its_recorder() -> None:
    expected = PostgreSQLRecorder if connection.vendor == "postgresql" else PortableRecorder
    assert type(recorder()) is expected
    assert type(recorder(connection)) is expected


def test_a_backend_without_a_recorder_is_refused_by_name() -> None:
    mysql: Any = SimpleNamespace(vendor="mysql", ops=SimpleNamespace(quote_name=str))
    with pytest.raises(ImproperlyConfigured, match="'mysql'"):
        recorder(mysql)


def _reads_of_vendor(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "vendor"
    ]


def test_only_the_recorders_branch_on_the_database_vendor() -> None:
    """Callers go through the recorder's interface (migrations may create backend objects)."""
    allowed = ROOT / "ledger" / "recorders"
    found = {
        str(path.relative_to(ROOT)): lines
        for package in ("ledger", "esports", "graphql_api", "config", "web")
        for path in sorted((ROOT / package).rglob("*.py"))
        if allowed not in path.parents and "migrations" not in path.parts
        if (lines := _reads_of_vendor(path))
    }
    assert found == {}
