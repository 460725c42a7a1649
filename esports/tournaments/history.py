"""A player's tournament history, read from their events: one row per tournament.

It lives beside the translator that writes what it reads (``activity.py`` puts the tournament's
id, name and a placement in each event's metadata); the ledger itself does not know what a
tournament is (DESIGN.md, layer rule 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import BigIntegerField, Count, IntegerField, Max, Min, Q, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce

from ledger.models import EventType
from ledger.routing import replica_read
from ledger.selectors import Page, PageRequest, keyset_page, standing_events


@dataclass(frozen=True, slots=True)
class TournamentParticipation:
    tournament_id: int
    tournament_name: str
    registered_at: datetime
    registered: bool
    joined: bool
    completed: bool
    placement: int | None
    matches_played: int
    matches_won: int
    matches_lost: int
    coins_earned: int


def _count(event_type: str) -> Count:
    return Count("id", filter=Q(event_type=event_type))


@replica_read
def tournament_history_page(*, user_id: int, request: PageRequest) -> Page[TournamentParticipation]:
    """One row per tournament the user registered for, newest registration first.

    Grouped in SQL by the events' ``metadata.tournament_id`` from events that still stand, so
    the query count does not depend on how many tournaments there are. Pages by
    (registered_at, tournament_id); the bound applies to the grouped rows (HAVING).
    """
    grouped = (
        standing_events(user_id)
        .filter(metadata__has_key="tournament_id")
        .annotate(
            tournament_id=Cast(KT("metadata__tournament_id"), BigIntegerField()),
            placement_value=Cast(KT("metadata__placement"), IntegerField()),
        )
        .values("tournament_id")
        .annotate(
            name=Max(KT("metadata__tournament_name")),
            registered_at=Min("timestamp", filter=Q(event_type=EventType.TOURNAMENT_REGISTERED)),
            n_registered=_count(EventType.TOURNAMENT_REGISTERED),
            n_joined=_count(EventType.TOURNAMENT_JOINED),
            n_completed=_count(EventType.TOURNAMENT_COMPLETED),
            n_won=_count(EventType.TOURNAMENT_WON),
            n_runner_up=_count(EventType.TOURNAMENT_RUNNER_UP),
            top4_place=Max("placement_value", filter=Q(event_type=EventType.TOURNAMENT_TOP4)),
            n_played=_count(EventType.MATCH_PLAYED),
            n_match_won=_count(EventType.MATCH_WON),
            n_match_lost=_count(EventType.MATCH_LOST),
            coins=Coalesce(
                Sum("amount", filter=Q(event_type=EventType.COINS_EARNED)),
                0,
                output_field=BigIntegerField(),
            ),
        )
        .filter(n_registered__gt=0)
    )
    page = keyset_page(grouped, order=("-registered_at", "-tournament_id"), request=request)
    return Page(
        rows=[_participation(row) for row in page.rows],
        has_next=page.has_next,
        has_previous=page.has_previous,
    )


def _participation(row: Mapping[str, Any]) -> TournamentParticipation:
    placement: int | None = None
    if row["n_won"]:
        placement = 1
    elif row["n_runner_up"]:
        placement = 2
    elif row["top4_place"] is not None:
        placement = int(row["top4_place"])
    return TournamentParticipation(
        tournament_id=row["tournament_id"],
        tournament_name=row["name"] or "",
        registered_at=row["registered_at"],
        registered=row["n_registered"] > 0,
        joined=row["n_joined"] > 0,
        completed=row["n_completed"] > 0,
        placement=placement,
        matches_played=row["n_played"],
        matches_won=row["n_match_won"],
        matches_lost=row["n_match_lost"],
        coins_earned=int(row["coins"]),
    )
