"""Tournaments as the ledger sees them (seed sections 2.3 and 2.4).

Each translator is a pure function of a row as it stands now; the ledger converges what is
recorded to it, so corrections (a changed winner, a no-show after check-in) need no code here.
Team rows fan out to the members of the team at the time of the event. Rows whose translation
reads other rows (a result reads who took part; team rows read memberships) are registered as
their dependents: the ledger re-converges them, in its one lock order, when those are saved.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet, Subquery

from esports.teams.models import TeamMembership
from esports.tournaments.models import Match, Registration, Tournament, TournamentResult
from ledger.drafts import EventDraft
from ledger.models import EventType
from ledger.sources import (
    UNSETTLED,
    Dependents,
    Source,
    Translation,
    register_dependents,
    register_source,
)

PLACEMENT_EVENTS = {
    1: EventType.TOURNAMENT_WON,
    2: EventType.TOURNAMENT_RUNNER_UP,
    3: EventType.TOURNAMENT_TOP4,
    4: EventType.TOURNAMENT_TOP4,
}


def tournament_metadata(tournament: Tournament) -> dict[str, Any]:
    return {
        "tournament_id": tournament.pk,
        "tournament_name": tournament.name,
        "game": tournament.game,
    }


def _side_metadata(registration: Registration) -> dict[str, Any]:
    team = registration.team
    if team is None:
        return {}
    return {"team": {"team_id": team.pk, "team_name": team.name}}


def translate_registration(registration: Registration) -> list[EventDraft]:
    metadata = {
        **tournament_metadata(registration.tournament),
        "registration_id": registration.pk,
        "entry_fee": registration.tournament.entry_fee,
        **_side_metadata(registration),
    }
    drafts: list[EventDraft] = []
    if registration.was_confirmed:
        assert registration.confirmed_at is not None
        at = registration.confirmed_at
        drafts += _for_members(registration, EventType.TOURNAMENT_REGISTERED, at, metadata)
    if registration.took_part:
        assert registration.checked_in_at is not None
        at = registration.checked_in_at
        drafts += _for_members(registration, EventType.TOURNAMENT_JOINED, at, metadata)
    return drafts


def _for_members(
    registration: Registration, event_type: str, at: datetime, metadata: dict[str, Any]
) -> list[EventDraft]:
    """One draft for each user the registration stands for at ``at`` (a team's members then)."""
    return [
        EventDraft(user_id, event_type, at, metadata) for user_id in registration.member_ids_at(at)
    ]


def translate_match(match: Match) -> Translation:
    if match.state == Match.State.DISPUTED:
        return UNSETTLED  # what was recorded stands until the dispute is resolved
    if match.state not in Match.DECIDED:
        return []
    assert match.completed_at is not None
    at = match.completed_at
    forfeit = match.state == Match.State.FORFEIT
    base = {
        **tournament_metadata(match.tournament),
        "match_id": match.pk,
        "round": match.round,
        "forfeit": forfeit,
    }
    drafts: list[EventDraft] = []
    sides = ((match.participant1, match.participant2), (match.participant2, match.participant1))
    for side, opponent in sides:
        won = side.pk == match.winner_id
        metadata = {
            **base,
            **_side_metadata(side),
            "opponent": opponent.describe(),
            # every player faced, by id alone (head-to-head; erasure scrubs them as persons)
            "opponent_players": [{"user_id": pk} for pk in opponent.member_ids_at(at)],
        }
        # The outcome rides only on match_won/match_lost: those are reversed when a result is
        # corrected, while match_played stands and must not keep a stale outcome.
        decided = {**metadata, "outcome": "won" if won else "lost"}
        for user_id in side.member_ids_at(at):
            drafts.append(EventDraft(user_id, EventType.MATCH_PLAYED, at, metadata))
            if not forfeit:
                outcome = EventType.MATCH_WON if won else EventType.MATCH_LOST
                drafts.append(EventDraft(user_id, outcome, at, decided))
    return drafts


def translate_result(result: TournamentResult) -> list[EventDraft]:
    at = result.created_at
    base = tournament_metadata(result.tournament)
    drafts: list[EventDraft] = []
    for place, registration in result.placements():
        metadata = {**base, "placement": place, **_side_metadata(registration)}
        drafts += _for_members(registration, PLACEMENT_EVENTS[place], at, metadata)
    placement_of = {registration.pk: place for place, registration in result.placements()}
    for registration in _registrations_of(result.tournament):
        if registration.took_part:
            metadata = {
                **base,
                "placement": placement_of.get(registration.pk),
                **_side_metadata(registration),
            }
            drafts += _for_members(registration, EventType.TOURNAMENT_COMPLETED, at, metadata)
    return drafts


_members = Prefetch("team__memberships", queryset=TeamMembership.objects.order_by())


def _registrations_of(tournament: Tournament) -> list[Registration]:
    """The tournament's registrations with their teams' members: prefetched by backfill."""
    if "registrations" in getattr(tournament, "_prefetched_objects_cache", {}):
        return list(tournament.registrations.all())
    return list(
        Registration.objects.filter(tournament=tournament)
        .select_related("team")
        .prefetch_related(_members)
    )


_side = ("user__profile", "team")


def _result_of_tournament(results: Source) -> Dependents:
    """A result's tournament_completed events follow who took part: a registration changed
    after the result (a late no-show or check-in) re-converges it."""

    def find(registration: Registration) -> list[tuple[Source, QuerySet[Any]]]:
        return [(results, results.rows().filter(tournament_id=registration.tournament_id))]

    return find


def _team_rows(registrations: Source, matches: Source, results: Source) -> Dependents:
    """Memberships decide who a team's events go to at each moment, and are often written after
    the fact (a backdated join, a leave recorded later): a membership re-converges the team's
    registrations, and its matches and results since the membership began.

    Events before the membership began cannot change; a ``joined_at`` edited to a later time is
    the one case this misses (reconcile finds it).
    """

    def find(membership: TeamMembership) -> list[tuple[Source, QuerySet[Any]]]:
        team_registrations = Registration.objects.filter(team_id=membership.team_id)
        since = membership.joined_at
        return [
            (registrations, registrations.rows().filter(team_id=membership.team_id)),
            (
                matches,
                matches.rows().filter(
                    Q(participant1_id__in=Subquery(team_registrations.values("pk")))
                    | Q(participant2_id__in=Subquery(team_registrations.values("pk"))),
                    completed_at__gte=since,
                ),
            ),
            (
                results,
                results.rows().filter(
                    tournament_id__in=Subquery(team_registrations.values("tournament_id")),
                    created_at__gte=since,
                ),
            ),
        ]

    return find


def register() -> None:
    registration_source = register_source(
        name="tournaments.registration",
        model=Registration,
        translate=translate_registration,
        rows=lambda: Registration.objects.select_related("tournament", *_side).prefetch_related(
            _members
        ),
    )
    match_source = register_source(
        name="tournaments.match",
        model=Match,
        translate=translate_match,
        rows=lambda: Match.objects.select_related(
            "tournament",
            *(f"{p}__{rel}" for p in ("participant1", "participant2") for rel in _side),
        ).prefetch_related(
            *(
                Prefetch(f"{p}__team__memberships", queryset=TeamMembership.objects.order_by())
                for p in ("participant1", "participant2")
            )
        ),
    )
    placements = TournamentResult.PLACEMENT_FIELDS
    result_source = register_source(
        name="tournaments.result",
        model=TournamentResult,
        translate=translate_result,
        rows=lambda: TournamentResult.objects.select_related(
            "tournament", *(f"{p}__team" for p in placements)
        ).prefetch_related(
            *(Prefetch(f"{p}__team__memberships") for p in placements),
            Prefetch(
                "tournament__registrations",
                queryset=Registration.objects.select_related("team").prefetch_related(_members),
            ),
        ),
    )
    register_dependents(
        source=registration_source.name, dependents=_result_of_tournament(result_source)
    )
    register_dependents(
        source="teams.membership",
        dependents=_team_rows(registration_source, match_source, result_source),
    )
