"""Jobs over GraphQL and in the admin: cancelling, attempts and leases as staff see them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ledger.models import LedgerJob
from ledger.operations.jobs import submit_job
from tests.factories import UserFactory
from tests.graphql_api.conftest import error_codes, signed_in_client
from tests.ledger.operations.job_states import hold, queued

pytestmark = pytest.mark.django_db

Status = LedgerJob.Status
CANCEL = """mutation($id: ID!) { cancelLedgerJob(input: {id: $id}) {
  id status cancelRequestedAt finishedAt } }"""
JOB = """query($id: ID!) { ledgerJob(id: $id) {
  status attempts attemptErrors { attempt worker at error } leaseExpiresAt leaseStale } }"""


@pytest.fixture
def staff() -> Any:
    return UserFactory.create(username="ops", is_staff=True)


def test_staff_cancel_a_pending_job(graphql: Any, staff: Any) -> None:
    job = queued()
    cancelled = graphql(CANCEL, {"id": str(job.pk)}, user=staff)["data"]["cancelLedgerJob"]
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["cancelRequestedAt"] is not None
    assert cancelled["finishedAt"] is not None
    assert LedgerJob.objects.get().cancelled_by == staff


def test_cancelling_a_running_job_asks_it_to_stop_at_its_next_checkpoint(
    graphql: Any, staff: Any
) -> None:
    job = queued()
    hold(job)
    asked = graphql(CANCEL, {"id": str(job.pk)}, user=staff)["data"]["cancelLedgerJob"]
    assert (asked["status"], asked["finishedAt"]) == ("RUNNING", None)
    assert asked["cancelRequestedAt"] is not None


@pytest.mark.parametrize("who", ["anonymous", "player"])
def test_only_staff_cancel_and_a_refusal_changes_nothing(graphql: Any, who: str) -> None:
    job = queued()
    caller = UserFactory.create() if who == "player" else None
    result = graphql(CANCEL, {"id": str(job.pk)}, user=caller)
    assert error_codes(result) == ["UNAUTHENTICATED" if caller is None else "FORBIDDEN"]
    job.refresh_from_db()
    assert (job.status, job.cancel_requested_at) == (Status.PENDING, None)


def test_cancelling_an_unknown_or_finished_job_is_a_client_error(graphql: Any, staff: Any) -> None:
    done = submit_job(kind="backfill", parameters={}, requested_by=None)  # inline: succeeds
    assert done.status == Status.SUCCEEDED
    finished = graphql(CANCEL, {"id": str(done.pk)}, user=staff)
    assert error_codes(finished) == ["BAD_USER_INPUT"]
    assert "already finished (succeeded)" in finished["errors"][0]["message"]
    assert error_codes(graphql(CANCEL, {"id": str(done.pk + 100)}, user=staff)) == ["NOT_FOUND"]
    assert error_codes(graphql(CANCEL, {"id": "nine"}, user=staff)) == ["BAD_USER_INPUT"]
    assert LedgerJob.objects.get().status == Status.SUCCEEDED


def test_a_job_shows_its_attempts_errors_and_a_stale_lease(graphql: Any, staff: Any) -> None:
    job = queued()
    expired = timezone.now() - timedelta(seconds=5)
    error = {"attempt": 1, "worker": "h:7:f00d", "at": expired.isoformat(), "error": "E: boom"}
    LedgerJob.objects.filter(pk=job.pk).update(
        status=Status.RUNNING,
        attempts=2,
        attempt_errors=[error],
        lease_owner="h:8:beef",
        lease_expires_at=expired,
    )
    shown = graphql(JOB, {"id": str(job.pk)}, user=staff)["data"]["ledgerJob"]
    assert shown["attempts"] == 2
    assert shown["attemptErrors"] == [
        {"attempt": 1, "worker": "h:7:f00d", "at": expired.isoformat(), "error": "E: boom"}
    ]
    assert shown["leaseStale"] is True
    assert shown["leaseExpiresAt"] == expired.isoformat()
    LedgerJob.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() + timedelta(1))
    assert graphql(JOB, {"id": str(job.pk)}, user=staff)["data"]["ledgerJob"]["leaseStale"] is False


def admin_client(*, superuser: bool) -> Client:
    user = UserFactory.create(is_staff=True, is_superuser=superuser)
    if not superuser:
        user.user_permissions.add(Permission.objects.get(codename="view_ledgerjob"))
    return signed_in_client(user)


def test_the_admin_cancels_selected_jobs() -> None:
    waiting, done = queued(), submit_job(kind="backfill", parameters={}, requested_by=None)
    response = admin_client(superuser=True).post(
        reverse("admin:ledger_ledgerjob_changelist"),
        {"action": "cancel_jobs", "_selected_action": [waiting.pk, done.pk]},
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert f"Job {waiting.pk} is cancelled." in shown
    assert f"Job {done.pk} has already finished (succeeded)." in shown
    waiting.refresh_from_db()
    assert waiting.status == Status.CANCELLED
    assert LedgerJob.objects.get(pk=done.pk).status == Status.SUCCEEDED


def test_the_admins_cancel_needs_the_change_permission() -> None:
    waiting = queued()
    client = admin_client(superuser=False)
    page = client.get(reverse("admin:ledger_ledgerjob_changelist"))
    assert page.status_code == 200
    assert "cancel_jobs" not in page.content.decode()
    client.post(
        reverse("admin:ledger_ledgerjob_changelist"),
        {"action": "cancel_jobs", "_selected_action": [waiting.pk]},
    )
    assert LedgerJob.objects.get().status == Status.PENDING
