"""A history that spans months, for the archive's tests: coins and a match in early 2023 (to be
archived) and recent events (that stay hot), for a player and her rival who name each other."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from esports.economy.models import DeltaCrownTransaction
from esports.tournaments.models import Match
from ledger.models import UserActivity, UserProfileStats
from ledger.models.insights import UserGameStats
from ledger.projections import GAME_STATS, LIFETIME_STATS
from tests.factories import MatchFactory, RegistrationFactory, UserFactory, transaction_for

BEFORE = date(2023, 4, 1)
"""Archives January, February and March 2023."""


def at(month: int, day: int) -> datetime:
    return datetime(2023, month, day, 12, tzinfo=UTC)


@dataclass
class History:
    erin: Any
    rival: Any
    january_coins: DeltaCrownTransaction
    match: Match


def make_history() -> History:
    erin = UserFactory.create(username="erin_archive", email="erin@archive.test")
    erin.profile.display_name = "Erin Of Old"
    erin.profile.save()
    rival = UserFactory.create(username="rival_archive", email="rival@archive.test")
    january = transaction_for(erin, 40, created_at=at(1, 10))
    transaction_for(erin, -15, reason="purchase", created_at=at(2, 5))
    transaction_for(rival, 25, created_at=at(3, 20))
    match = MatchFactory.create(
        participant1=RegistrationFactory.create(user=erin), participant2__user=rival
    )
    match.state, match.winner, match.loser = "completed", match.participant1, match.participant2
    match.completed_at = at(2, 14)
    match.save()
    transaction_for(erin, 7)  # now: stays hot
    return History(erin, rival, january, match)


def stats(*users: Any) -> dict[int, dict[str, Any]]:
    rows = UserProfileStats.objects.filter(user__in=users).values("user_id", *LIFETIME_STATS.fields)
    return {row.pop("user_id"): row for row in rows}


def game_stats() -> list[dict[str, Any]]:
    """Every per-game stats row (the other projection of the registry)."""
    fields = [*GAME_STATS.key, *GAME_STATS.fields]
    return list(UserGameStats.objects.order_by(*GAME_STATS.key).values(*fields))


def old_events() -> int:
    return UserActivity.objects.filter(timestamp__lt=datetime(2023, 4, 1, tzinfo=UTC)).count()


def read_file(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.fixture
def archive_dir(tmp_path: Path) -> Any:
    directory = tmp_path / "archive"
    with override_settings(LEDGER_ARCHIVE_DIR=directory):
        yield directory
