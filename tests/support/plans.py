"""Reading PostgreSQL's EXPLAIN (FORMAT JSON) plans in tests, partitioned tables included."""

from __future__ import annotations

from typing import Any

from django.db import connection


def plan_nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    """A plan node and every node below it."""
    return [node, *(n for child in node.get("Plans", []) for n in plan_nodes(child))]


def and_its_partitions(name: str) -> set[str]:
    """A table or index and, where it is partitioned (decision 0014), each partition's copy."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass",
            [name],
        )
        return {name, *(row[0] for row in cursor.fetchall())}
