"""Teams as the ledger sees them: created, joined, left."""

from __future__ import annotations

from typing import Any

from esports.teams.models import Team, TeamMembership
from ledger.drafts import EventDraft
from ledger.models import EventType
from ledger.sources import register_source


def team_metadata(team: Team) -> dict[str, Any]:
    return {"team_id": team.pk, "team_name": team.name}


def translate_team(team: Team) -> list[EventDraft]:
    return [
        EventDraft(
            user_id=team.created_by_id,
            event_type=EventType.TEAM_CREATED,
            timestamp=team.created_at,
            metadata=team_metadata(team),
        )
    ]


def translate_membership(membership: TeamMembership) -> list[EventDraft]:
    metadata = team_metadata(membership.team)
    drafts = [
        EventDraft(
            user_id=membership.user_id,
            event_type=EventType.TEAM_JOINED,
            timestamp=membership.joined_at,
            metadata=metadata,
        )
    ]
    if membership.left_at is not None:
        drafts.append(
            EventDraft(
                user_id=membership.user_id,
                event_type=EventType.TEAM_LEFT,
                timestamp=membership.left_at,
                metadata=metadata,
            )
        )
    return drafts


def register() -> None:
    register_source(name="teams.team", model=Team, translate=translate_team)
    register_source(
        name="teams.membership",
        model=TeamMembership,
        translate=translate_membership,
        rows=lambda: TeamMembership.objects.select_related("team"),
    )
