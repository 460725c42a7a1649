"""Bad input gets a clear ValidationError and writes nothing: no source row, no event, no stats."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from esports.economy.models import DeltaCrownTransaction
from esports.teams.models import TeamMembership
from esports.tournaments.models import Match, Registration, TournamentResult
from ledger.models import UserActivity, UserProfileStats
from tests.factories import (
    MatchFactory,
    RegistrationFactory,
    TeamFactory,
    TournamentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _registration_with_both() -> Any:
    team = TeamFactory.create()
    return Registration(
        tournament=TournamentFactory.create(), user=team.created_by, team=team, status="confirmed"
    )


def _registration_with_neither() -> Any:
    return Registration(tournament=TournamentFactory.create(), status="confirmed")


def _completed_without_winner() -> Any:
    match = MatchFactory.create()
    match.state = Match.State.COMPLETED
    return match


def _forfeit_without_winner() -> Any:
    match = MatchFactory.create()
    match.state = Match.State.FORFEIT
    return match


def _winner_not_a_participant() -> Any:
    match = MatchFactory.create()
    match.state = Match.State.COMPLETED
    match.winner = RegistrationFactory.create(tournament=match.tournament)
    return match


def _winner_from_another_tournament() -> Any:
    match = MatchFactory.create()
    match.state = Match.State.COMPLETED
    match.winner = RegistrationFactory.create()
    return match


def _match_side_from_another_tournament() -> Any:
    one = RegistrationFactory.create()
    return Match(
        tournament=one.tournament, participant1=one, participant2=RegistrationFactory.create()
    )


def _match_with_one_side() -> Any:
    one = RegistrationFactory.create()
    return Match(tournament=one.tournament, participant1=one)


def _match_against_itself() -> Any:
    one = RegistrationFactory.create()
    return Match(tournament=one.tournament, participant1=one, participant2=one)


def _result_placement_of_another_tournament() -> Any:
    winner = RegistrationFactory.create()
    return TournamentResult(
        tournament=winner.tournament, winner=winner, runner_up=RegistrationFactory.create()
    )


def _result_winner_of_another_tournament() -> Any:
    return TournamentResult(
        tournament=TournamentFactory.create(), winner=RegistrationFactory.create()
    )


def _result_without_winner() -> Any:
    return TournamentResult(tournament=RegistrationFactory.create().tournament)


def _result_same_registration_twice() -> Any:
    winner = RegistrationFactory.create()
    return TournamentResult(tournament=winner.tournament, winner=winner, third_place=winner)


def _zero_transaction() -> Any:
    return DeltaCrownTransaction(wallet=UserFactory.create().wallet, amount=0, reason="winner")


def _unknown_reason() -> Any:
    return DeltaCrownTransaction(wallet=UserFactory.create().wallet, amount=5, reason="gift")


def _left_before_joining() -> Any:
    membership = TeamMembership.objects.get(team=TeamFactory.create())
    membership.left_at = membership.joined_at.replace(year=membership.joined_at.year - 1)
    return membership


BAD_INPUT: dict[str, Callable[[], Any]] = {
    "registration with both user and team": _registration_with_both,
    "registration with neither user nor team": _registration_with_neither,
    "completed match without a winner": _completed_without_winner,
    "forfeit without a winner": _forfeit_without_winner,
    "winner not a participant": _winner_not_a_participant,
    "winner from another tournament": _winner_from_another_tournament,
    "match side from another tournament": _match_side_from_another_tournament,
    "match with one side": _match_with_one_side,
    "match against itself": _match_against_itself,
    "result placement of another tournament": _result_placement_of_another_tournament,
    "result winner of another tournament": _result_winner_of_another_tournament,
    "result without a winner": _result_without_winner,
    "result gives one registration two places": _result_same_registration_twice,
    "zero-amount transaction": _zero_transaction,
    "transaction with an unknown reason": _unknown_reason,
    "membership left before it began": _left_before_joining,
}


@pytest.mark.parametrize("build", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_raises_validation_error_and_writes_nothing(build: Callable[[], Any]) -> None:
    row = build()
    model = type(row)
    rows_before = list(model.objects.order_by("pk").values())
    events_before = UserActivity.objects.count()
    stats_before = list(UserProfileStats.objects.order_by("pk").values())

    with pytest.raises(ValidationError) as error:
        row.save()

    assert str(error.value)  # says what is wrong
    assert list(model.objects.order_by("pk").values()) == rows_before
    assert UserActivity.objects.count() == events_before
    assert list(UserProfileStats.objects.order_by("pk").values()) == stats_before


def test_validation_messages_name_the_problem() -> None:
    with pytest.raises(ValidationError, match="exactly one of a user or a team"):
        _registration_with_neither().save()
    with pytest.raises(ValidationError, match="needs a winner"):
        _completed_without_winner().save()
    with pytest.raises(ValidationError, match="one of the match's participants"):
        _winner_not_a_participant().save()
    with pytest.raises(ValidationError, match="not of this tournament"):
        _result_placement_of_another_tournament().save()
    with pytest.raises(ValidationError, match="non-zero"):
        _zero_transaction().save()


def test_loser_follows_a_corrected_winner() -> None:
    """Correcting a result is setting its winner: the old loser is not left as a contradiction."""
    match = MatchFactory.create()
    match.state, match.winner = Match.State.COMPLETED, match.participant1
    match.save()
    assert match.loser_id == match.participant2_id
    match.winner = match.participant2
    match.save()
    stored = Match.objects.get(pk=match.pk)
    assert (stored.winner_id, stored.loser_id) == (match.participant2_id, match.participant1_id)
