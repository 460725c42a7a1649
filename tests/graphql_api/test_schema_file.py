"""schema.graphql at the top level is the printed schema (re-export: see the module docstring).

python manage.py export_schema graphql_api.schema --path schema.graphql
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from graphql_api.schema import schema


def test_schema_file_is_the_printed_schema():
    committed = (Path(settings.BASE_DIR) / "schema.graphql").read_text(encoding="utf-8")
    assert committed.strip() == schema.as_str().strip(), (
        "schema.graphql is stale: run "
        "`python manage.py export_schema graphql_api.schema --path schema.graphql`"
    )


def test_the_export_command_writes_the_same_text(tmp_path):
    target = tmp_path / "schema.graphql"
    call_command("export_schema", "graphql_api.schema", "--path", str(target))
    assert target.read_text(encoding="utf-8").strip() == schema.as_str().strip()
