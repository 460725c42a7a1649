"""Rarity (a projection of no one user) after an archive: its holders equal baseline + hot
unlocks, and erasing a player whose unlock was archived takes them out of the count (I9)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.models import AchievementHolders, ProjectionBaseline, UserActivity
from ledger.operations.archive import archive_activity
from ledger.operations.gdpr import anonymize_user
from ledger.operations.reconcile import reconcile_stats
from ledger.recompute import recompute_achievement_holders
from tests.factories import AchievementFactory, UnlockFactory, UserFactory
from tests.ledger.archive.history import BEFORE, at

pytestmark = pytest.mark.django_db


def holders() -> dict[str, int]:
    return dict(AchievementHolders.objects.values_list("code", "holders"))


def test_rarity_counts_archived_unlocks_and_loses_an_erased_holder(archive_dir: Path) -> None:
    veteran, newcomer = UserFactory.create(username="veteran"), UserFactory.create(username="new")
    medal = AchievementFactory.create(code="first-blood")
    UnlockFactory.create(user=veteran, achievement=medal, unlocked_at=at(1, 10))
    UnlockFactory.create(user=newcomer, achievement=medal)  # now: stays hot
    assert holders() == {"first-blood": 2}

    report = archive_activity(before=BEFORE)

    assert report.total_events == 1
    assert not UserActivity.objects.filter(user=veteran).exists()
    [baseline] = ProjectionBaseline.objects.filter(projection="ledger.achievementholders")
    assert (baseline.user_id, baseline.key) == (veteran.pk, f'[{veteran.pk},"first-blood"]')
    assert holders() == {"first-blood": 2}
    assert recompute_achievement_holders(None)[("first-blood",)]["holders"] == 2
    assert not reconcile_stats().found_problems

    anonymize_user(user=veteran)

    assert holders() == {"first-blood": 1}
    assert recompute_achievement_holders(None)[("first-blood",)]["holders"] == 1
    assert not ProjectionBaseline.objects.filter(user_id=veteran.pk).exists()
    assert not reconcile_stats().found_problems
