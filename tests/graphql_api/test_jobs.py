"""Staff operations over GraphQL, the self-service export, its download, and job listings."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from ledger.models import ErasedSubject, LedgerJob, UserActivity, UserProfileStats
from tests.factories import RegistrationFactory, UserFactory, transaction_for
from tests.graphql_api.conftest import error_codes, global_id, make_events, signed_in_client

pytestmark = pytest.mark.django_db

JOB_FIELDS = "id kind status progress { done total } result error downloadUrl"
BACKFILL = f"""mutation($sources: [String!], $dryRun: Boolean!) {{
  backfillActivity(input: {{sources: $sources, dryRun: $dryRun}}) {{ {JOB_FIELDS} }} }}"""
RECONCILE = f"""mutation($userIds: [ID!], $fix: Boolean!) {{
  reconcileStats(input: {{userIds: $userIds, fix: $fix}}) {{ {JOB_FIELDS} }} }}"""
ANONYMIZE = f"""mutation($userId: ID!) {{
  anonymizeUser(input: {{userId: $userId}}) {{ {JOB_FIELDS} }} }}"""
EXPORT = f"""mutation($userId: ID!) {{
  exportUserData(input: {{userId: $userId}}) {{ {JOB_FIELDS} }} }}"""
EXPORT_MINE = f"mutation {{ exportMyData {{ {JOB_FIELDS} }} }}"


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.LEDGER_EXPORT_DIR = tmp_path / "exports"
    return settings.LEDGER_EXPORT_DIR


@pytest.fixture
def staff():
    return UserFactory.create(username="staff", is_staff=True)


@pytest.fixture
def player():
    user = UserFactory.create(username="player")
    make_events(user, 3)
    transaction_for(user, 60)
    RegistrationFactory.create(user=user)
    return user


def snapshot():
    """Everything an operation could change."""
    return (
        LedgerJob.objects.count(),
        list(UserActivity.objects.order_by("id").values_list("id", "user_id", "metadata")),
        list(UserProfileStats.objects.order_by("user_id").values()),
        ErasedSubject.objects.count(),
    )


def test_backfill_dry_run_reports_and_records_a_job(graphql, staff, player):
    job = graphql(BACKFILL, {"sources": ["economy.transaction"], "dryRun": True}, user=staff)
    job = job["data"]["backfillActivity"]
    assert (job["kind"], job["status"]) == ("BACKFILL", "SUCCEEDED")
    assert job["result"]["dry_run"] is True
    assert job["result"]["rows"] == 1
    row = LedgerJob.objects.get(pk=job["id"])
    assert row.requested_by == staff
    assert row.parameters == {"sources": ["economy.transaction"], "dry_run": True}


def test_backfill_with_an_unknown_source_is_a_client_error_and_creates_no_job(
    graphql, staff, player
):
    result = graphql(BACKFILL, {"sources": ["nope.nothing"], "dryRun": False}, user=staff)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert "nope.nothing" in result["errors"][0]["message"]
    assert LedgerJob.objects.count() == 0


def test_reconcile_finds_and_fixes_drift(graphql, staff, player):
    UserProfileStats.objects.filter(user=player).update(achievements_count=99)
    checked = graphql(RECONCILE, {"userIds": [str(player.pk)], "fix": False}, user=staff)
    assert checked["data"]["reconcileStats"]["result"]["users_checked"] == 1
    assert len(checked["data"]["reconcileStats"]["result"]["drifted"]) == 1
    assert UserProfileStats.objects.get(user=player).achievements_count == 99
    fixed = graphql(RECONCILE, {"fix": True}, user=staff)["data"]["reconcileStats"]
    assert fixed["status"] == "SUCCEEDED"
    assert UserProfileStats.objects.get(user=player).achievements_count == 3


def test_reconcile_of_an_unknown_user_is_a_client_error(graphql, staff):
    result = graphql(RECONCILE, {"userIds": ["987654"], "fix": True}, user=staff)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert LedgerJob.objects.count() == 0


def test_user_operations_take_a_users_global_id(graphql, staff, player):
    """The ID every other field hands out (numeric ids are still read, deprecated); another
    type's ID is refused as the client's error, and nothing is submitted."""
    user = global_id("User", player.pk)
    job = graphql(EXPORT, {"userId": user}, user=staff)["data"]["exportUserData"]
    assert (job["kind"], job["status"]) == ("EXPORT", "SUCCEEDED")
    job = graphql(RECONCILE, {"userIds": [user], "fix": False}, user=staff)["data"]
    assert job["reconcileStats"]["status"] == "SUCCEEDED"
    submitted = LedgerJob.objects.count()
    for mutation in (EXPORT, ANONYMIZE):
        wrong = graphql(mutation, {"userId": global_id("Team", player.pk)}, user=staff)
        assert error_codes(wrong) == ["BAD_USER_INPUT"]
    assert LedgerJob.objects.count() == submitted
    job = graphql(ANONYMIZE, {"userId": user}, user=staff)["data"]["anonymizeUser"]
    assert (job["kind"], job["status"]) == ("ANONYMIZE", "SUCCEEDED")
    assert UserActivity.objects.filter(user=player).count() == 0


def test_anonymize_erases_the_user_from_the_ledger(graphql, staff, player):
    events = UserActivity.objects.filter(user=player).count()
    job = graphql(ANONYMIZE, {"userId": str(player.pk)}, user=staff)["data"]["anonymizeUser"]
    assert (job["kind"], job["status"]) == ("ANONYMIZE", "SUCCEEDED")
    assert job["result"]["events"] == events
    assert UserActivity.objects.filter(user=player).count() == 0
    subject = ErasedSubject.objects.get(public_id=job["result"]["erased_subject"])
    assert subject.activities.count() == events


def test_export_by_staff_then_download_by_owner_and_staff_only(graphql, staff, player):
    job = graphql(EXPORT, {"userId": str(player.pk)}, user=staff)["data"]["exportUserData"]
    assert (job["kind"], job["status"]) == ("EXPORT", "SUCCEEDED")
    url = job["downloadUrl"]
    assert url == f"/exports/{job['id']}/"
    for viewer, status in ((player, 200), (staff, 200), (UserFactory.create(), 404)):
        response = signed_in_client(viewer).get(url)
        assert response.status_code == status, viewer
        if status == 200:
            document = json.loads(response.getvalue())
            assert document["user"]["username"] == "player"
            assert len(document["events"]) == UserActivity.objects.filter(user=player).count()
    assert Client().get(url).status_code == 401


def test_export_my_data_exports_the_viewer_only(graphql, player):
    job = graphql(EXPORT_MINE, user=player)["data"]["exportMyData"]
    row = LedgerJob.objects.get(pk=job["id"])
    assert row.parameters == {"user_id": player.pk}
    assert row.requested_by == player
    assert job["result"]["events"] == UserActivity.objects.filter(user=player).count()
    assert job["downloadUrl"] == f"/exports/{row.pk}/"
    assert error_codes(graphql(EXPORT_MINE)) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    ("mutation", "variables"),
    [
        (BACKFILL, {"dryRun": False}),
        (RECONCILE, {"fix": True}),
        (ANONYMIZE, {"userId": "SELF"}),
        (EXPORT, {"userId": "SELF"}),
    ],
)
@pytest.mark.parametrize("who", ["anonymous", "player", "other"])
def test_non_staff_are_refused_and_nothing_happens(graphql, player, mutation, variables, who):
    UserProfileStats.objects.filter(user=player).update(achievements_count=5)  # drift to fix
    variables = {k: str(player.pk) if v == "SELF" else v for k, v in variables.items()}
    before = snapshot()
    caller = {"anonymous": None, "player": player, "other": UserFactory.create()}[who]
    result = graphql(mutation, variables, user=caller)
    assert result["data"] is None
    assert error_codes(result) == ["UNAUTHENTICATED" if caller is None else "FORBIDDEN"]
    assert "staff" in result["errors"][0]["message"] or caller is None
    assert snapshot() == before
    assert LedgerJob.objects.count() == 0


JOBS = """query($status: LedgerJobStatus, $kind: LedgerJobKind, $first: Int, $after: String) {
  ledgerJobs(status: $status, kind: $kind, first: $first, after: $after) {
    edges { node { id kind status } } pageInfo { hasNextPage endCursor } } }"""


def test_staff_list_jobs_newest_first_by_status_and_kind(graphql, staff, player):
    graphql(BACKFILL, {"dryRun": True}, user=staff)
    graphql(EXPORT, {"userId": str(player.pk)}, user=staff)
    LedgerJob.objects.create(kind=LedgerJob.Kind.RECONCILE, status=LedgerJob.Status.FAILED)
    ids = list(LedgerJob.objects.order_by("-created_at", "-id").values_list("id", flat=True))
    listed = graphql(JOBS, {}, user=staff)["data"]["ledgerJobs"]["edges"]
    assert [int(e["node"]["id"]) for e in listed] == ids
    failed = graphql(JOBS, {"status": "FAILED"}, user=staff)["data"]["ledgerJobs"]["edges"]
    assert [e["node"]["kind"] for e in failed] == ["RECONCILE"]
    exports = graphql(JOBS, {"kind": "EXPORT"}, user=staff)["data"]["ledgerJobs"]["edges"]
    assert [e["node"]["kind"] for e in exports] == ["EXPORT"]
    page = graphql(JOBS, {"first": 2}, user=staff)["data"]["ledgerJobs"]
    rest = graphql(JOBS, {"after": page["pageInfo"]["endCursor"]}, user=staff)
    assert [
        int(e["node"]["id"]) for e in page["edges"] + rest["data"]["ledgerJobs"]["edges"]
    ] == ids


def test_job_queries_are_staff_only_and_unknown_ids_are_not_found(graphql, staff, player):
    job = graphql(EXPORT_MINE, user=player)["data"]["exportMyData"]
    one = "query($id: ID!) { ledgerJob(id: $id) { id kind } }"
    assert graphql(one, {"id": job["id"]}, user=staff)["data"]["ledgerJob"]["kind"] == "EXPORT"
    assert error_codes(graphql(one, {"id": job["id"]}, user=player)) == ["FORBIDDEN"]
    assert error_codes(graphql(JOBS, {}, user=player)) == ["FORBIDDEN"]
    assert error_codes(graphql(JOBS, {})) == ["UNAUTHENTICATED"]
    assert error_codes(graphql(one, {"id": "31337"}, user=staff)) == ["NOT_FOUND"]
    assert error_codes(graphql(one, {"id": "thirty"}, user=staff)) == ["BAD_USER_INPUT"]


def test_reconcile_refuses_an_oversized_user_list(graphql, staff):
    from graphql_api.jobs.mutations import MAX_RECONCILE_USERS

    ids = [str(i + 1) for i in range(MAX_RECONCILE_USERS + 1)]
    result = graphql(RECONCILE, {"userIds": ids, "fix": False}, user=staff)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert LedgerJob.objects.count() == 0
