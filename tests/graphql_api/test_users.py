"""me and user(username); the ledger's FilterSets reject bad input before any query runs."""

from __future__ import annotations

import pytest

from ledger.filters import ActivityFilter, InvalidFilterError, LedgerJobFilter, apply_filter
from ledger.models import LedgerJob, UserActivity
from tests.factories import UserFactory
from tests.graphql_api.conftest import global_id, make_events

pytestmark = pytest.mark.django_db

USER = """query($username: String!) { user(username: $username) {
  id username profile { displayName activityPublic } stats { achievementsCount } } }"""


def test_user_by_username_is_public_and_its_id_feeds_user_id_arguments(graphql):
    ann = UserFactory.create(username="ann")
    ann.profile.display_name = "Ann the Bold"
    ann.profile.activity_public = False
    ann.profile.save()
    make_events(ann, 2)
    found = graphql(USER, {"username": "ann"})["data"]["user"]
    assert found == {
        "id": global_id("User", ann.pk),
        "username": "ann",
        "profile": {"displayName": "Ann the Bold", "activityPublic": False},
        "stats": {"achievementsCount": 2},
    }
    stats = graphql(
        "query($id: ID) { stats(userId: $id) { achievementsCount } }", {"id": found["id"]}
    )
    assert stats["data"]["stats"]["achievementsCount"] == 2
    assert graphql(USER, {"username": "nobody"})["data"]["user"] is None


def test_me_is_the_viewer(graphql):
    bob = UserFactory.create(username="bob")
    me = graphql("{ me { id username profile { displayName } } }", user=bob)["data"]["me"]
    assert me == {
        "id": global_id("User", bob.pk),
        "username": "bob",
        "profile": {"displayName": "bob"},
    }


def test_activity_filter_rejects_bad_values_with_the_field_named():
    queryset = UserActivity.objects.all()
    with pytest.raises(InvalidFilterError, match="event_types"):
        apply_filter(ActivityFilter, data={"event_types": ["danced"]}, queryset=queryset)
    with pytest.raises(InvalidFilterError, match="since"):
        apply_filter(ActivityFilter, data={"since": "yesterday"}, queryset=queryset)


def test_job_filter_narrows_by_status_and_kind():
    LedgerJob.objects.create(kind="export", status="failed")
    LedgerJob.objects.create(kind="export", status="succeeded")
    LedgerJob.objects.create(kind="backfill", status="failed")
    jobs = LedgerJob.objects.all()
    failed_exports = apply_filter(
        LedgerJobFilter, data={"status": "failed", "kind": "export"}, queryset=jobs
    )
    assert list(failed_exports.values_list("kind", "status")) == [("export", "failed")]
    with pytest.raises(InvalidFilterError, match="status"):
        apply_filter(LedgerJobFilter, data={"status": "exploded"}, queryset=jobs)
