"""Achievements as the ledger sees them."""

from __future__ import annotations

from esports.achievements.models import UserAchievement
from ledger.drafts import EventDraft
from ledger.models import EventType
from ledger.sources import register_source


def translate_unlock(unlock: UserAchievement) -> list[EventDraft]:
    achievement = unlock.achievement
    return [
        EventDraft(
            user_id=unlock.user_id,
            event_type=EventType.ACHIEVEMENT_UNLOCKED,
            timestamp=unlock.unlocked_at,
            metadata={
                "achievement_id": achievement.pk,
                "achievement_code": achievement.code,
                "achievement_name": achievement.name,
            },
        )
    ]


def register() -> None:
    register_source(
        name="achievements.unlock",
        model=UserAchievement,
        translate=translate_unlock,
        rows=lambda: UserAchievement.objects.select_related("achievement"),
    )
