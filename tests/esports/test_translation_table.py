"""Zulip-style table: each platform action -> exactly the events it emits, nothing more.

Each case is a generator: what runs before its ``yield`` is the setup, what runs after it is the
action under test. Only the events the action appends are compared, sorted within the action.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from esports.teams.models import TeamMembership
from esports.tournaments.models import Match, Registration
from ledger.models import UserActivity
from tests.esports.scenario import Row, assert_stats_fold_everywhere, check_in, decide, events
from tests.factories import (
    AchievementFactory,
    MatchFactory,
    MembershipFactory,
    RegistrationFactory,
    ResultFactory,
    TeamFactory,
    TournamentFactory,
    UnlockFactory,
    UserFactory,
    transaction_for,
)

Case = Callable[[], Iterator[None]]
T0 = timezone.now() - timedelta(days=30)


def _solo_match(state: str | None = None) -> Match:
    match = MatchFactory.create(
        participant1__user__username="ana", participant2__user__username="bo"
    )
    if state is not None:
        decide(match, winner=match.participant1, state=state)
    return match


def _team(name: str, *members: str) -> Registration:
    """A team of ``members`` (the first creates it), all in since T0, registered and confirmed."""
    creator, *others = (UserFactory.create(username=m) for m in members)
    team = TeamFactory.create(name=name, created_by=creator, created_at=T0)
    for user in others:
        MembershipFactory.create(team=team, user=user, joined_at=T0)
    return RegistrationFactory.create(team=team, user=None, status="pending")


def registration_confirmed_on_create() -> Iterator[None]:
    yield
    RegistrationFactory.create(user__username="ana")


def registration_pending() -> Iterator[None]:
    yield
    RegistrationFactory.create(user__username="ana", status=Registration.Status.PENDING)


def registration_confirmed_later() -> Iterator[None]:
    registration = RegistrationFactory.create(user__username="ana", status="pending")
    yield
    registration.status = Registration.Status.CONFIRMED
    registration.save()


def registration_checked_in() -> Iterator[None]:
    registration = RegistrationFactory.create(user__username="ana")
    yield
    check_in(registration)


def registration_no_show_without_check_in() -> Iterator[None]:
    registration = RegistrationFactory.create(user__username="ana")
    yield
    registration.status = Registration.Status.NO_SHOW
    registration.save()


def registration_cancelled_after_check_in() -> Iterator[None]:
    registration = check_in(RegistrationFactory.create(user__username="ana"))
    yield
    registration.status = Registration.Status.CANCELLED
    registration.save()


def registration_saved_again_unchanged() -> Iterator[None]:
    registration = check_in(RegistrationFactory.create(user__username="ana"))
    yield
    registration.save()


def match_scheduled() -> Iterator[None]:
    ana = RegistrationFactory.create(user__username="ana")
    bo = RegistrationFactory.create(user__username="bo", tournament=ana.tournament)
    yield
    Match.objects.create(tournament=ana.tournament, participant1=ana, participant2=bo)


def match_completed() -> Iterator[None]:
    match = _solo_match()
    yield
    decide(match, winner=match.participant2)


def match_forfeit() -> Iterator[None]:
    match = _solo_match()
    yield
    decide(match, winner=match.participant1, state=Match.State.FORFEIT)


def match_disputed_after_completion() -> Iterator[None]:
    match = _solo_match(Match.State.COMPLETED)
    yield
    match.state = Match.State.DISPUTED
    match.save()


def match_dispute_upheld() -> Iterator[None]:
    match = _solo_match(Match.State.COMPLETED)
    match.state = Match.State.DISPUTED
    match.save()
    yield
    decide(match, winner=match.participant1)


def match_winner_corrected() -> Iterator[None]:
    match = _solo_match(Match.State.COMPLETED)
    yield
    decide(match, winner=match.participant2)


def match_forfeit_becomes_completed() -> Iterator[None]:
    match = _solo_match(Match.State.FORFEIT)
    yield
    decide(match, winner=match.participant2)


def result_created() -> Iterator[None]:
    tournament = TournamentFactory.create()
    regs = [
        RegistrationFactory.create(tournament=tournament, user__username=name)
        for name in ("ana", "bo", "cy", "dee", "eve")
    ]
    for registration in regs[:4]:
        check_in(registration)
    yield
    ResultFactory.create(
        tournament=tournament, winner=regs[1], runner_up=regs[0], third_place=regs[4]
    )


def no_show_recorded_after_the_result() -> Iterator[None]:
    """The result stands for who took part: a later no-show is no longer among them."""
    winner = check_in(RegistrationFactory.create(user__username="bo"))
    ana = check_in(RegistrationFactory.create(user__username="ana", tournament=winner.tournament))
    ResultFactory.create(winner=winner)
    yield
    ana.status = Registration.Status.NO_SHOW
    ana.save()


def check_in_recorded_after_the_result() -> Iterator[None]:
    winner = check_in(RegistrationFactory.create(user__username="bo"))
    ana = RegistrationFactory.create(user__username="ana", tournament=winner.tournament)
    ResultFactory.create(winner=winner)
    yield
    check_in(ana)


def coins_earned() -> Iterator[None]:
    ana = UserFactory.create(username="ana")
    yield
    transaction_for(ana, 300, "winner")


def coins_spent() -> Iterator[None]:
    ana = UserFactory.create(username="ana")
    yield
    transaction_for(ana, -25, "entry_fee")


def achievement_unlocked() -> Iterator[None]:
    ana = UserFactory.create(username="ana")
    achievement = AchievementFactory.create(code="first-blood")
    yield
    UnlockFactory.create(user=ana, achievement=achievement)


def team_created() -> Iterator[None]:
    ana = UserFactory.create(username="ana")
    yield
    TeamFactory.create(created_by=ana)


def member_joined() -> Iterator[None]:
    team = TeamFactory.create(created_by__username="ana")
    bo = UserFactory.create(username="bo")
    yield
    MembershipFactory.create(team=team, user=bo)


def member_left() -> Iterator[None]:
    team = TeamFactory.create(created_by__username="ana")
    membership = MembershipFactory.create(team=team, user__username="bo")
    yield
    membership.left_at = timezone.now()
    membership.save()


def member_joined_and_left_in_one_save() -> Iterator[None]:
    team = TeamFactory.create(created_by__username="ana")
    bo = UserFactory.create(username="bo")
    yield
    TeamMembership.objects.create(team=team, user=bo, joined_at=T0, left_at=T0 + timedelta(days=1))


def team_registration_confirmed() -> Iterator[None]:
    registration = _team("Red", "ana", "bo", "cy")
    yield
    registration.status = Registration.Status.CONFIRMED
    registration.save()


def team_match_completed() -> Iterator[None]:
    red, blue = _team("Red", "ana", "bo"), _team("Blue", "cy", "dee")
    blue.tournament = red.tournament
    blue.save()
    match = Match.objects.create(tournament=red.tournament, participant1=red, participant2=blue)
    yield
    decide(match, winner=blue)


def _red_beat_blue() -> Registration:
    """Red (ana, bo) and Blue (cy) confirmed at T0+1d; Red won their match at T0+2d."""
    red, blue = _team("Red", "ana", "bo"), _team("Blue", "cy")
    blue.tournament = red.tournament
    for registration in (red, blue):
        registration.status = Registration.Status.CONFIRMED
        registration.confirmed_at = T0 + timedelta(days=1)
        registration.save()
    match = Match.objects.create(tournament=red.tournament, participant1=red, participant2=blue)
    decide(match, winner=red, at=T0 + timedelta(days=2))
    return red


def member_joined_backdated_after_team_events() -> Iterator[None]:
    """History written after the fact: the member gets what the team did while they were in."""
    red = _red_beat_blue()
    dee = UserFactory.create(username="dee")
    yield
    MembershipFactory.create(team=red.team, user=dee, joined_at=T0 + timedelta(hours=1))


def member_leave_recorded_late() -> Iterator[None]:
    red = _red_beat_blue()
    yield
    membership = TeamMembership.objects.get(team=red.team, user__username="bo")
    membership.left_at = T0 + timedelta(days=1, hours=12)  # after registering, before the match
    membership.save()


def team_result_created() -> Iterator[None]:
    red = _team("Red", "ana", "bo")
    red.status = Registration.Status.CONFIRMED
    red.save()
    check_in(red)
    yield
    ResultFactory.create(winner=red)


PLAYED, WON, LOST = "match_played", "match_won", "match_lost"

TABLE: list[tuple[Case, list[Row]]] = [
    (registration_confirmed_on_create, [("ana", "tournament_registered")]),
    (registration_pending, []),
    (registration_confirmed_later, [("ana", "tournament_registered")]),
    (registration_checked_in, [("ana", "tournament_joined")]),
    (registration_no_show_without_check_in, []),
    (registration_cancelled_after_check_in, [("ana", "reversal:tournament_joined")]),
    (registration_saved_again_unchanged, []),
    (match_scheduled, []),
    (match_completed, [("ana", LOST), ("ana", PLAYED), ("bo", PLAYED), ("bo", WON)]),
    (match_forfeit, [("ana", PLAYED), ("bo", PLAYED)]),
    (match_disputed_after_completion, []),
    (match_dispute_upheld, []),
    (
        match_winner_corrected,
        [("ana", LOST), ("ana", "reversal:match_won"), ("bo", WON), ("bo", "reversal:match_lost")],
    ),
    (match_forfeit_becomes_completed, [("ana", LOST), ("bo", WON)]),
    (
        result_created,
        [
            ("ana", "tournament_completed"),
            ("ana", "tournament_runner_up"),
            ("bo", "tournament_completed"),
            ("bo", "tournament_won"),
            ("cy", "tournament_completed"),
            ("dee", "tournament_completed"),
            ("eve", "tournament_top4"),  # placed, but never checked in: not completed
        ],
    ),
    (
        no_show_recorded_after_the_result,
        [("ana", "reversal:tournament_completed"), ("ana", "reversal:tournament_joined")],
    ),
    (
        check_in_recorded_after_the_result,
        [("ana", "tournament_completed"), ("ana", "tournament_joined")],
    ),
    (coins_earned, [("ana", "coins_earned")]),
    (coins_spent, [("ana", "coins_spent")]),
    (achievement_unlocked, [("ana", "achievement_unlocked")]),
    (team_created, [("ana", "team_created"), ("ana", "team_joined")]),
    (member_joined, [("bo", "team_joined")]),
    (member_left, [("bo", "team_left")]),
    (member_joined_and_left_in_one_save, [("bo", "team_joined"), ("bo", "team_left")]),
    (
        team_registration_confirmed,
        [
            ("ana", "tournament_registered"),
            ("bo", "tournament_registered"),
            ("cy", "tournament_registered"),
        ],
    ),
    (
        team_match_completed,
        [
            ("ana", LOST),
            ("ana", PLAYED),
            ("bo", LOST),
            ("bo", PLAYED),
            ("cy", PLAYED),
            ("cy", WON),
            ("dee", PLAYED),
            ("dee", WON),
        ],
    ),
    (
        member_joined_backdated_after_team_events,
        [("dee", PLAYED), ("dee", WON), ("dee", "team_joined"), ("dee", "tournament_registered")],
    ),
    (
        member_leave_recorded_late,
        [("bo", "reversal:match_played"), ("bo", "reversal:match_won"), ("bo", "team_left")],
    ),
    (
        team_result_created,
        [
            ("ana", "tournament_completed"),
            ("ana", "tournament_won"),
            ("bo", "tournament_completed"),
            ("bo", "tournament_won"),
        ],
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "expected"), TABLE, ids=[case.__name__ for case, _ in TABLE])
def test_platform_action_emits_exactly(case: Case, expected: list[Row]) -> None:
    steps = case()
    next(steps)  # setup
    mark = UserActivity.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for _ in steps:  # the action
        pass
    assert events(id__gt=mark) == expected
    assert_stats_fold_everywhere()
