"""The ledger's tables: the append-only events, the projections and erased subjects."""

from ledger.models.activity import EventType, UserActivity
from ledger.models.archive import (
    ArchivedEvent,
    ArchivedFile,
    ProjectionBaseline,
    RecentResultsBaseline,
    StreakBaseline,
)
from ledger.models.checkpoints import BackfillCheckpoint
from ledger.models.erasure import ErasedSubject
from ledger.models.insights import AchievementHolders, HeadToHead, PlayerCount, UserGameStats
from ledger.models.jobs import LedgerJob
from ledger.models.stats import UserProfileStats

__all__ = [
    "AchievementHolders",
    "ArchivedEvent",
    "ArchivedFile",
    "BackfillCheckpoint",
    "ErasedSubject",
    "EventType",
    "HeadToHead",
    "LedgerJob",
    "PlayerCount",
    "ProjectionBaseline",
    "RecentResultsBaseline",
    "StreakBaseline",
    "UserActivity",
    "UserGameStats",
    "UserProfileStats",
]
