"""Issue 17's projections across the archive (I9): per-game stats, head-to-head and rarity
equal baseline + hot events after months are archived, and after an erasure."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.models import AchievementHolders, HeadToHead, UserGameStats
from ledger.operations.archive import archive_activity
from ledger.operations.gdpr import anonymize_user
from ledger.operations.reconcile import reconcile_stats
from ledger.selectors import achievement_rarity, head_to_head
from tests.esports.scenario import assert_stats_fold_everywhere
from tests.factories import AchievementFactory, UnlockFactory
from tests.ledger.archive.history import BEFORE, archive_dir, at, make_history  # noqa: F401

pytestmark = pytest.mark.django_db


def test_insights_equal_baseline_plus_hot_events_after_the_archive(
    archive_dir: Path,  # noqa: F811
) -> None:
    history = make_history()
    veteran = AchievementFactory.create(code="veteran")
    UnlockFactory.create(user=history.erin, achievement=veteran, unlocked_at=at(1, 20))
    UnlockFactory.create(user=history.rival, achievement=veteran)  # now: stays hot
    games = sorted(UserGameStats.objects.values_list("user_id", "game", "matches_won"))
    record = head_to_head(user_id=history.erin.pk, opponent_id=history.rival.pk)

    archive_activity(before=BEFORE)

    assert sorted(UserGameStats.objects.values_list("user_id", "game", "matches_won")) == games
    assert head_to_head(user_id=history.erin.pk, opponent_id=history.rival.pk) == record
    assert (record.matches_played, record.won) == (1, 1)
    assert achievement_rarity(codes=["veteran"])["veteran"].holders == 2
    assert not reconcile_stats().found_problems
    assert_stats_fold_everywhere()

    anonymize_user(user=history.erin)  # her archived unlock and match leave with her

    assert not HeadToHead.objects.exists()  # the one record named her on both sides
    assert AchievementHolders.objects.get(code="veteran").holders == 1
    report = reconcile_stats()
    assert not report.found_problems, report.as_dict()
    assert_stats_fold_everywhere()
