"""Helpers for API tests: run a query over HTTP through the real view, build events quickly."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from ledger.drafts import NewEvent
from ledger.models import EventType
from ledger.services.recording import record_activity

BASE_TIME = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

GraphQL = Callable[..., dict[str, Any]]


def signed_in_client(user: Any) -> Client:
    """A test client with ``user``'s session, as a signed-in browser has it."""
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def graphql(client: Client) -> GraphQL:
    """POST a query to /graphql/ as ``user`` (session) or with ``token`` (bearer); return JSON."""

    def run(
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        user: Any = None,
        token: str | None = None,
        expect_status: int = 200,
    ) -> dict[str, Any]:
        http = Client() if user is None else signed_in_client(user)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = http.post(
            "/graphql/",
            data=json.dumps({"query": query, "variables": variables or {}}),
            content_type="application/json",
            headers=headers,
        )
        assert response.status_code == expect_status, response.content
        return response.json() if expect_status == 200 else {"raw": response.content}

    return run


def make_events(
    user: Any,
    count: int,
    *,
    event_type: str = EventType.ACHIEVEMENT_UNLOCKED,
    start: datetime = BASE_TIME,
    step: timedelta = timedelta(minutes=1),
    source_model: str = "tests.synthetic",
    first_source_id: int = 1,
    metadata: dict[str, Any] | None = None,
    amount: int = 0,
) -> None:
    """``count`` events through the one write path, one per source id, ``step`` apart."""
    record_activity(
        events=[
            NewEvent(
                user_id=user.pk,
                event_type=event_type,
                timestamp=start + step * i,
                metadata=metadata or {},
                source_model=source_model,
                source_id=first_source_id + i,
                amount=amount,
            )
            for i in range(count)
        ]
    )


def error_codes(result: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors", [])]


def db_id(global_id: str) -> int:
    """The database id inside a global ID, decoded as any client could (base64 "Type:id")."""
    _, _, number = base64.b64decode(global_id).decode().partition(":")
    return int(number)


def global_id(type_name: str, pk: Any) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()
