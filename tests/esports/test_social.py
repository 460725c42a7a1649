"""Follows: idempotent services, database constraints, GDPR export and erasure."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.db import IntegrityError, transaction

from esports.social.models import Follow
from esports.social.selectors import (
    followed_among,
    followers_count_by_user,
    following_count_by_user,
    shown_followed_ids,
)
from esports.social.services import (
    CannotFollowSelf,
    NoSuchPlayer,
    follow_player,
    unfollow_player,
)
from ledger.operations.gdpr import anonymize_user, export_user_activity
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def pairs() -> list[tuple[int, int]]:
    return sorted(Follow.objects.values_list("follower_id", "followed_id"))


def test_follow_and_unfollow_are_idempotent():
    ann, bob = UserFactory.create(), UserFactory.create()
    assert follow_player(follower_id=ann.pk, followed_id=bob.pk) is True
    assert follow_player(follower_id=ann.pk, followed_id=bob.pk) is False
    assert pairs() == [(ann.pk, bob.pk)]
    assert unfollow_player(follower_id=ann.pk, followed_id=bob.pk) is True
    assert unfollow_player(follower_id=ann.pk, followed_id=bob.pk) is False
    assert pairs() == []


def test_following_yourself_or_nobody_is_refused():
    ann = UserFactory.create()
    with pytest.raises(CannotFollowSelf):
        follow_player(follower_id=ann.pk, followed_id=ann.pk)
    with pytest.raises(NoSuchPlayer):
        follow_player(follower_id=ann.pk, followed_id=ann.pk + 1000)
    assert pairs() == []


def test_the_database_refuses_a_self_follow_and_a_duplicate():
    ann, bob = UserFactory.create(), UserFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        Follow.objects.create(follower=ann, followed=ann)
    Follow.objects.create(follower=ann, followed=bob)
    with pytest.raises(IntegrityError), transaction.atomic():
        Follow.objects.create(follower=ann, followed=bob)
    assert pairs() == [(ann.pk, bob.pk)]


def test_counts_and_followed_among_read_a_batch():
    ann, bob, cid, dan = (UserFactory.create() for _ in range(4))
    for follower, followed in ((ann, bob), (ann, cid), (cid, bob), (dan, ann)):
        follow_player(follower_id=follower.pk, followed_id=followed.pk)
    ids = [ann.pk, bob.pk, cid.pk, dan.pk]
    assert followers_count_by_user(user_ids=ids) == {ann.pk: 1, bob.pk: 2, cid.pk: 1}
    assert following_count_by_user(user_ids=ids) == {ann.pk: 2, cid.pk: 1, dan.pk: 1}
    assert followed_among(follower_id=ann.pk, user_ids=ids) == {bob.pk, cid.pk}


def test_the_feed_shows_only_followed_players_whose_activity_is_public():
    ann, bob, cid = (UserFactory.create() for _ in range(3))
    cid.profile.activity_public = False
    cid.profile.save()
    for followed in (bob, cid):
        follow_player(follower_id=ann.pk, followed_id=followed.pk)
    shown = [row["user_id"] for row in shown_followed_ids(follower_id=ann.pk)]
    assert shown == [bob.pk]


def test_export_holds_follows_in_both_directions():
    ann, bob, cid = (UserFactory.create() for _ in range(3))
    follow_player(follower_id=ann.pk, followed_id=bob.pk)
    follow_player(follower_id=cid.pk, followed_id=ann.pk)
    out = StringIO()
    export_user_activity(user=ann, out=out)
    document = json.loads(out.getvalue())
    following = [(f["user_id"], f["username"]) for f in document["follows"]["following"]]
    followers = [(f["user_id"], f["username"]) for f in document["follows"]["followers"]]
    assert following == [(bob.pk, bob.username)]
    assert followers == [(cid.pk, cid.username)]
    assert document["events"] == []


def test_anonymize_erases_follows_in_both_directions_and_no_others():
    ann, bob, cid = (UserFactory.create() for _ in range(3))
    follow_player(follower_id=ann.pk, followed_id=bob.pk)
    follow_player(follower_id=cid.pk, followed_id=ann.pk)
    follow_player(follower_id=bob.pk, followed_id=cid.pk)
    anonymize_user(user=ann)
    assert pairs() == [(bob.pk, cid.pk)]
