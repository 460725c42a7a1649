"""Drive every path that exports a metric, so a scrape afterwards shows each family."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from django.test import Client
from prometheus_client import REGISTRY

from ledger.drafts import NewEvent
from ledger.models import EventType, UserProfileStats
from ledger.operations.jobs import run_job_now
from ledger.services.recording import record_activity

STATS_QUERY = "query PlayerStats($id: ID) { stats(userId: $id) { matchesPlayed } }"


def value(name: str, **labels: str) -> float:
    """A sample of this process's registry (0 when the labelled child does not exist yet)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def unlocks(user: Any, *, source_ids: range) -> list[NewEvent]:
    return [
        NewEvent(
            user_id=user.pk,
            event_type=EventType.ACHIEVEMENT_UNLOCKED,
            timestamp=datetime(2026, 1, 1, 12, i % 60, tzinfo=UTC),
            metadata={},
            source_model="tests.observability",
            source_id=i,
        )
        for i in source_ids
    ]


def post_graphql(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = Client().post(
        "/graphql/",
        data=json.dumps({"query": query, "variables": variables or {}}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def exercise_everything(user: Any, capture_on_commit: Any) -> None:
    """Events (and duplicates), a drifted user reconciled, a failing job, GraphQL queries that
    succeed, fail on input and fail on the server."""
    with capture_on_commit(execute=True):
        record_activity(events=unlocks(user, source_ids=range(1, 4)))
    with capture_on_commit(execute=True):
        record_activity(events=unlocks(user, source_ids=range(2, 6)))  # 2 and 3 are duplicates
    UserProfileStats.objects.filter(user=user).update(achievements_count=99)
    run_job_now(kind="reconcile", parameters={"fix": True})
    with (
        mock.patch.dict("ledger.operations.jobs._RUNNERS", {"export": _explode}),
        contextlib.suppress(RuntimeError),
    ):
        run_job_now(kind="export", parameters={"user_id": user.pk})  # fails: a failed job
    post_graphql(STATS_QUERY, {"id": str(user.pk)})
    post_graphql("query Broken { stats(userId: 1) { noSuchField } }")
    with mock.patch(
        "graphql_api.stats.queries.existing_user_stats", side_effect=RuntimeError("boom")
    ):
        post_graphql(STATS_QUERY, {"id": str(user.pk)})


def _explode(*args: Any) -> Any:
    raise RuntimeError("disk full")
