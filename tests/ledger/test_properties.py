"""Property tests: any sequence of platform actions keeps I1 (fold, for every projection), I2
(once), and per-game stats summing to the lifetime stats.

Each example builds a small world (users, two teams, two solo and one team tournament) inside a
savepoint, runs random actions through the platform's own models, checks the invariants, and
rolls back, so every example starts from the same empty state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esports.teams.models import Team, TeamMembership
from esports.tournaments.models import Match, Registration, Tournament, TournamentResult
from ledger.models import UserActivity
from ledger.services.convergence import converge_rows, plan_convergence
from ledger.sources import all_sources
from tests.esports.scenario import assert_games_sum_to_lifetime, assert_stats_fold_everywhere
from tests.factories import TeamFactory, TournamentFactory, UserFactory, transaction_for

pytestmark = pytest.mark.django_db


@dataclass
class World:
    users: list[Any]
    teams: list[Team]
    tournaments: list[Tournament]  # two solo, then one for teams
    regs: list[Registration] = field(default_factory=list)
    matches: list[Match] = field(default_factory=list)
    memberships: list[TeamMembership] = field(default_factory=list)
    started: datetime = field(default_factory=timezone.now)

    @classmethod
    def build(cls) -> World:
        started = timezone.now() - timedelta(hours=1)
        users = [UserFactory.create() for _ in range(5)]
        teams = [TeamFactory.create(created_by=users[i], created_at=started) for i in range(2)]
        # Three games, so that per-game stats split what lifetime stats sum.
        tournaments = [TournamentFactory.create(game=game) for game in ("valorant", "cs2")]
        tournaments.append(TournamentFactory.create(team_size=3, game="dota2"))
        for team, member in ((teams[0], users[2]), (teams[1], users[3])):
            TeamMembership.objects.create(team=team, user=member)
        memberships = list(TeamMembership.objects.filter(team__in=teams).order_by("pk"))
        world = cls(users, teams, tournaments, memberships=memberships, started=started)
        # Most players are already in: random actions then mostly act on something.
        for tournament in tournaments[:2]:
            for user in users[:4]:
                world.regs.append(
                    Registration.objects.create(
                        tournament=tournament, user=user, status="confirmed"
                    )
                )
        return world


def _pick(items: list[Any], i: int) -> Any:
    return items[i % len(items)] if items else None


def register(w: World, a: int, b: int, n: int) -> None:
    status = "confirmed" if n % 2 else "pending"
    w.regs.append(
        Registration.objects.create(
            tournament=w.tournaments[b % 2], user=w.users[a % 5], status=status
        )
    )


def register_team(w: World, a: int, b: int, n: int) -> None:
    w.regs.append(
        Registration.objects.create(
            tournament=w.tournaments[2], team=w.teams[a % 2], status="confirmed"
        )
    )


def _set_status(status: str) -> Callable[[World, int, int, int], None]:
    def act(w: World, a: int, b: int, n: int) -> None:
        reg = _pick(w.regs, a)
        if reg is not None:
            reg.status = status
            reg.save()

    act.__name__ = status
    return act


def check_in(w: World, a: int, b: int, n: int) -> None:
    reg = _pick(w.regs, a)
    if reg is not None:
        reg.checked_in = True
        reg.save()


def play(w: World, a: int, b: int, n: int) -> None:
    reg = _pick(w.regs, a)
    if reg is None:
        return
    rivals = [r for r in w.regs if r.tournament_id == reg.tournament_id and r.pk != reg.pk]
    rival = _pick(rivals, b)
    if rival is None:
        return
    match = Match.objects.create(
        tournament_id=reg.tournament_id, participant1=reg, participant2=rival
    )
    w.matches.append(match)
    if n % 3:  # most matches are played out at once
        _decide(match, n, Match.State.COMPLETED)


def _decide(match: Match, n: int, state: str) -> None:
    match.state = state
    match.winner_id = match.participant1_id if n % 2 else match.participant2_id
    match.save()


def _on_match(change: Callable[[Match, int], None]) -> Callable[[World, int, int, int], None]:
    def act(w: World, a: int, b: int, n: int) -> None:
        match = _pick(w.matches, a)
        if match is not None:
            change(match, n)

    act.__name__ = change.__name__
    return act


def complete_or_correct(match: Match, n: int) -> None:
    _decide(match, n, Match.State.COMPLETED)


def forfeit(match: Match, n: int) -> None:
    _decide(match, n, Match.State.FORFEIT)


def dispute(match: Match, n: int) -> None:
    match.state = Match.State.DISPUTED
    match.save()


def reset(match: Match, n: int) -> None:
    match.state, match.winner, match.loser, match.completed_at = "scheduled", None, None, None
    match.save()


def result(w: World, a: int, b: int, n: int) -> None:
    tournament = w.tournaments[a % 3]
    regs = [r for r in w.regs if r.tournament_id == tournament.pk]
    if not regs or TournamentResult.objects.filter(tournament=tournament).exists():
        return
    start = b % len(regs)
    placed = (regs[start:] + regs[:start])[: 1 + n % 4]
    names = TournamentResult.PLACEMENT_FIELDS
    TournamentResult.objects.create(tournament=tournament, **dict(zip(names, placed, strict=False)))


def coins(w: World, a: int, b: int, n: int) -> None:
    transaction_for(w.users[a % 5], n, "winner" if n > 0 else "purchase")


def join(w: World, a: int, b: int, n: int) -> None:
    w.memberships.append(TeamMembership.objects.create(team=w.teams[a % 2], user=w.users[b % 5]))


def join_backdated(w: World, a: int, b: int, n: int) -> None:
    """History written after the fact: a membership that began before recorded events."""
    joined = w.started - timedelta(minutes=abs(n) % 120)
    w.memberships.append(
        TeamMembership.objects.create(team=w.teams[a % 2], user=w.users[b % 5], joined_at=joined)
    )


def leave(w: World, a: int, b: int, n: int) -> None:
    membership = _pick([m for m in w.memberships if m.left_at is None], a)
    if membership is not None:
        membership.left_at = timezone.now()
        membership.save()


ACTIONS: list[Callable[[World, int, int, int], None]] = [
    register,
    register_team,
    _set_status("confirmed"),
    _set_status("no_show"),
    _set_status("cancelled"),
    check_in,
    check_in,
    play,
    play,
    play,
    _on_match(complete_or_correct),
    _on_match(complete_or_correct),
    _on_match(forfeit),
    _on_match(dispute),
    _on_match(reset),
    result,
    coins,
    join,
    join_backdated,
    leave,
]

steps = st.lists(
    st.tuples(
        st.sampled_from(ACTIONS),
        st.integers(0, 9),
        st.integers(0, 9),
        st.integers(-300, 300),
    ),
    min_size=15,
    max_size=40,
)


def _run(world: World, actions: list[tuple[Callable[..., None], int, int, int]]) -> None:
    for act, a, b, n in actions:
        try:
            with transaction.atomic():  # a refused action writes nothing and the run goes on
                act(world, a, b, n)
        except (ValidationError, IntegrityError):
            pass


def _assert_converged() -> None:
    """I2: converging every row of every source again plans and records nothing."""
    for source in all_sources():
        rows = list(source.rows())
        assert plan_convergence(source=source, rows=rows) == [], source.name
        assert converge_rows(source=source, rows=rows).recorded == [], source.name


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=steps)
def test_random_platform_actions_keep_the_fold_and_record_once(
    actions: list[tuple[Callable[..., None], int, int, int]],
) -> None:
    with transaction.atomic():
        world = World.build()
        _run(world, actions)
        assert_stats_fold_everywhere()  # I1, every projection
        assert_games_sum_to_lifetime()
        before = UserActivity.objects.count()
        _assert_converged()  # I2
        assert UserActivity.objects.count() == before
        assert_stats_fold_everywhere()
        transaction.set_rollback(True)
