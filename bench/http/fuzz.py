"""Property-based GraphQL fuzzing of a live server (schemathesis 4, from ``schema.graphql``).

Every query and mutation of the schema gets ``examples`` generated operations (arguments of
every shape, NUL bytes and odd Unicode included) per caller: anonymous, a player, staff. Each
response is classified; the one class that must stay empty is *internal*: a 5xx, a body that
is not a GraphQL response, or an error masked as ``Unexpected error.`` (a server error the
client could trigger). Client errors with a code, validation errors and data are all fine.

``python -m bench.http.fuzz [--examples 300] [--seed 0]`` runs it against a worker it starts
on a database of its own (``bench_http_fuzz``: created, migrated, filled with the demo data,
dropped after; staff mutations erase and rewrite there); ``tests/http/test_schemathesis.py``
runs a short pass in the suite.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MASKED_MESSAGE = "Unexpected error."


@dataclass
class FuzzReport:
    """Responses by caller and kind; ``internal`` lists what must not happen."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    internal: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def classify(status: int, body: bytes) -> str:
    """data, client_error (coded or a validation error), or internal."""
    if status >= 500:
        return "internal"
    try:
        document = json.loads(body)
    except ValueError:
        return "internal" if status < 400 else "client_error"
    if not isinstance(document, dict):
        return "internal"
    errors = document.get("errors") or []
    if any(error.get("message") == MASKED_MESSAGE for error in errors):
        return "internal"
    return "client_error" if errors or status >= 400 else "data"


def fuzz(url: str, callers: dict[str, str | None], *, examples: int, seed: int) -> FuzzReport:
    """Run ``examples`` generated operations per schema operation per caller against ``url``.
    ``seed`` makes a run repeatable; each operation draws from its own seed derived from it
    (one seed for all would give every operation the same few odd strings, NULs included or
    not)."""
    import hypothesis
    import requests
    import schemathesis
    from schemathesis.core.result import Ok

    schema = schemathesis.graphql.from_path(ROOT / "schema.graphql")
    report = FuzzReport()
    session = requests.Session()
    for index, result in enumerate(schema.get_all_operations()):
        if not isinstance(result, Ok):
            raise RuntimeError(f"schema.graphql has an operation schemathesis cannot use: {result}")
        operation = result.ok()
        for caller, token in callers.items():
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            run = _examples_of(operation, url, session, caller, headers, report, examples)
            hypothesis.seed(seed * 1000 + index)(run)()
    return report


def _examples_of(
    operation: Any,
    url: str,
    session: Any,
    caller: str,
    headers: dict[str, str],
    report: FuzzReport,
    examples: int,
) -> Any:
    """A hypothesis test that sends ``examples`` cases of one operation as one caller."""
    from hypothesis import HealthCheck, Phase, given, settings

    @settings(
        max_examples=examples,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=operation.as_strategy())
    def call(case: Any) -> None:
        response = case.call(base_url=url, session=session, headers=headers, timeout=30)
        kind = classify(response.status_code, response.content)
        report.counts[(caller, kind)] += 1
        if kind == "internal":
            report.internal.append(
                {
                    "caller": caller,
                    "operation": operation.label,
                    "status": response.status_code,
                    "query": case.body,
                    "response": response.text[:500],
                }
            )

    return call


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.http.fuzz", description=__doc__)
    parser.add_argument("--examples", type=int, default=300, help="per operation and caller")
    parser.add_argument("--seed", type=int, default=0, help="the same seed repeats the run")
    args = parser.parse_args(argv)
    server_url = os.environ.get("BENCH_SERVER_URL", "postgres://postgres@127.0.0.1:5432")
    name = "bench_http_fuzz"
    _recreate(server_url, name)
    os.environ.update(
        DATABASE_URL=f"{server_url}/{name}",
        DJANGO_SETTINGS_MODULE="config.settings",
        LEDGER_EXPORT_DIR=str(Path(tempfile.mkdtemp(prefix="bench-fuzz-exports-"))),
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from bench.http.servers import uvicorn_worker
    from graphql_api.auth.tokens import issue_api_token

    call_command("migrate", verbosity=0)
    call_command("load_demo_data", verbosity=0)
    users = get_user_model().objects
    player = users.filter(is_staff=False, is_active=True).order_by("pk").first()
    staff = users.create_user(username="fuzz-staff", password=None, is_staff=True)
    callers = {
        "anonymous": None,
        "player": issue_api_token(user=player, name="fuzz")[1],
        "staff": issue_api_token(user=staff, name="fuzz")[1],
    }
    try:
        with uvicorn_worker("config.asgi:application", "/graphql/") as server:
            report = fuzz(server.urls[0], callers, examples=args.examples, seed=args.seed)
    finally:
        from django.db import connection

        connection.close()
        _recreate(server_url, name, drop_only=True)
    print(f"{report.total} responses")
    for (caller, kind), count in sorted(report.counts.items()):
        print(f"  {caller:9} {kind:12} {count}")
    print(f"internal errors: {len(report.internal)}")
    for item in report.internal[:20]:
        print(json.dumps(item))
    sys.exit(1 if report.internal else 0)


def _recreate(server_url: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


if __name__ == "__main__":
    main()
