"""statsUpdated (the current stats, then each change) and ledgerJobProgress (staff, polled)."""

from __future__ import annotations

import pytest

from graphql_api.auth.tokens import issue_api_token
from graphql_api.subscriptions import resolvers
from ledger.models import LedgerJob
from ledger.operations.jobs import cancel_job
from ledger.services.stats import recompute_stats
from tests.factories import UserFactory, transaction_for
from tests.graphql_api.conftest import make_events
from tests.graphql_api.subscriptions.conftest import (
    connected,
    follow,
    in_db,
    quiet,
    receive_data,
    receive_error,
    subscribe,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

STATS = """subscription($userId: ID) { statsUpdated(userId: $userId) {
  achievementsCount totalEarned netEarnings } }"""
PROGRESS = """subscription($id: ID!) { ledgerJobProgress(id: $id) {
  status progress { done total } } }"""


def bearer(user) -> dict[str, str]:
    _, token = issue_api_token(user=user)
    return {"Authorization": f"Bearer {token}"}


async def test_stats_now_then_after_each_commit_equal_to_the_recompute():
    user = await in_db(UserFactory.create)(username="counted")
    watcher = await in_db(UserFactory.create)(username="fan")
    await in_db(make_events)(user, 2)
    async with connected(await in_db(bearer)(watcher)) as ws:  # stats are public
        op = await follow(ws, STATS, {"userId": str(user.pk)}, user_id=user.pk)
        now = (await receive_data(ws, op))["statsUpdated"]
        await in_db(transaction_for)(user, 120)
        after_coins = (await receive_data(ws, op))["statsUpdated"]
        await in_db(make_events)(user, 3, first_source_id=10)
        after_more = (await receive_data(ws, op))["statsUpdated"]
        assert await quiet(ws)
    assert now == {"achievementsCount": 2, "totalEarned": 0, "netEarnings": 0}
    assert after_coins == {"achievementsCount": 2, "totalEarned": 120, "netEarnings": 120}
    recomputed = await in_db(recompute_stats)(user=user)
    assert after_more == {
        "achievementsCount": recomputed["achievements_count"],
        "totalEarned": recomputed["total_earned"],
        "netEarnings": 120,
    }
    assert after_more["achievementsCount"] == 5


async def test_a_commit_that_leaves_stats_unchanged_sends_nothing():
    user = await in_db(UserFactory.create)(username="steady")
    async with connected(await in_db(bearer)(user)) as ws:
        op = await follow(ws, STATS, user_id=user.pk)
        await receive_data(ws, op)
        await in_db(make_events)(user, 1, first_source_id=1)
        await receive_data(ws, op)
        await in_db(make_events)(user, 1, first_source_id=1)  # already recorded: nothing new
        assert await quiet(ws)


async def test_staff_watch_a_job_to_its_end(monkeypatch):
    monkeypatch.setattr(resolvers, "JOB_POLL_SECONDS", 0.02)
    staff = await in_db(UserFactory.create)(username="operator", is_staff=True)
    job = await in_db(LedgerJob.objects.create)(kind=LedgerJob.Kind.BACKFILL)
    rows = LedgerJob.objects.filter(pk=job.pk)
    async with connected(await in_db(bearer)(staff)) as ws:
        op = await subscribe(ws, PROGRESS, {"id": str(job.pk)})
        seen = [(await receive_data(ws, op))["ledgerJobProgress"]]
        await in_db(rows.update)(status="running", progress_done=40, progress_total=100)
        seen.append((await receive_data(ws, op))["ledgerJobProgress"])
        await in_db(rows.update)(status="succeeded", progress_done=100)
        seen.append((await receive_data(ws, op))["ledgerJobProgress"])
        complete = await ws.receive_json_from(timeout=5)
    assert seen == [
        {"status": "PENDING", "progress": {"done": 0, "total": None}},
        {"status": "RUNNING", "progress": {"done": 40, "total": 100}},
        {"status": "SUCCEEDED", "progress": {"done": 100, "total": 100}},
    ]
    assert complete == {"id": op, "type": "complete"}


async def test_a_job_cancelled_while_watched_ends_the_stream_cancelled(monkeypatch):
    monkeypatch.setattr(resolvers, "JOB_POLL_SECONDS", 0.02)
    staff = await in_db(UserFactory.create)(username="canceller", is_staff=True)
    job = await in_db(LedgerJob.objects.create)(kind=LedgerJob.Kind.RECONCILE)
    async with connected(await in_db(bearer)(staff)) as ws:
        op = await subscribe(ws, PROGRESS, {"id": str(job.pk)})
        first = (await receive_data(ws, op))["ledgerJobProgress"]
        await in_db(cancel_job)(job_id=job.pk, cancelled_by=staff)
        last = (await receive_data(ws, op))["ledgerJobProgress"]
        complete = await ws.receive_json_from(timeout=5)
    assert (first["status"], last["status"]) == ("PENDING", "CANCELLED")
    assert complete == {"id": op, "type": "complete"}


async def test_an_unknown_job_is_not_found():
    staff = await in_db(UserFactory.create)(username="operator2", is_staff=True)
    async with connected(await in_db(bearer)(staff)) as ws:
        error = await receive_error(ws, await subscribe(ws, PROGRESS, {"id": "999999"}))
    assert error["extensions"]["code"] == "NOT_FOUND"
