"""Head-to-head: a player's record against another, read by the (user, opponent) key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.fold import opponents_of
from ledger.models import ArchivedEvent, EventType, HeadToHead, UserActivity
from ledger.projections import HEAD_TO_HEAD


@dataclass(frozen=True, slots=True)
class HeadToHeadRecord:
    matches_played: int
    won: int
    lost: int
    last_match_at: datetime | None
    last_match_id: int | None
    """The latest match's id as its events recorded it (None: never met, or no longer named)."""


def head_to_head(*, user_id: int, opponent_id: int) -> HeadToHeadRecord:
    """One row by its unique key, and, for the last match, the player's ``match_played`` events
    at that moment (the ``(user, event_type, timestamp)`` index): two index reads at most."""
    row = (
        HeadToHead.objects.filter(user_id=user_id, opponent_id=opponent_id)
        .values(*HEAD_TO_HEAD.fields)
        .first()
    )
    if row is None:
        return HeadToHeadRecord(0, 0, 0, None, None)
    at = row["last_match_at"]
    return HeadToHeadRecord(
        row["matches_played"],
        row["matches_won"],
        row["matches_lost"],
        at,
        None if at is None else _match_at(user_id, opponent_id, at),
    )


def _match_at(user_id: int, opponent_id: int, at: datetime) -> int | None:
    events = UserActivity.objects.filter(
        user_id=user_id, event_type=EventType.MATCH_PLAYED, timestamp=at
    ).order_by("-id")
    for metadata in events.values_list("metadata", flat=True):
        match_id = metadata.get("match_id")
        if opponent_id in opponents_of(metadata) and isinstance(match_id, int):
            return match_id
    return _archived_match_at(user_id, opponent_id, at)


def _archived_match_at(user_id: int, opponent_id: int, at: datetime) -> int | None:
    """The last match after its month was archived: the source row both players have an
    archived ``match_played`` of at that moment (the archive keeps no metadata in the table)."""
    played = ArchivedEvent.objects.filter(event_type=EventType.MATCH_PLAYED, timestamp=at)
    theirs = played.filter(user_id=opponent_id).values_list("source_model", "source_id")
    for source_model, source_id in (
        played.filter(user_id=user_id).order_by("-id").values_list("source_model", "source_id")
    ):
        if (source_model, source_id) in set(theirs):
            return source_id
    return None
