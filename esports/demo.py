"""Demo data: a small platform history written through the platform's own models.

Every row is saved the way the platform saves it, so the ledger records it live: a solo
tournament with a forfeit, a corrected final and a no-show, a team tournament, prizes, fees and
achievements. The same story is the acceptance scenario of the ledger core.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from esports.achievements.models import Achievement, UserAchievement
from esports.economy.models import DeltaCrownTransaction
from esports.teams.models import Team, TeamMembership
from esports.tournaments.models import Match, Registration, Tournament, TournamentResult

PLAYERS = {
    "alice": "Alice Ace",
    "bob": "Bob Blitz",
    "carol": "Carol Clutch",
    "dave": "Dave Dash",
    "erin": "Erin Echo",
    "frank": "Frank Flick",
}
DEMO_STAFF = "admin"


@dataclass(frozen=True)
class DemoSummary:
    users: int
    tournaments: int


def load_demo_data(
    *, now: datetime | None = None, staff_password: str | None = None
) -> DemoSummary | None:
    """Write the demo history once; returns None when it is already there."""
    User = get_user_model()
    if User.objects.filter(username="alice").exists():
        return None
    start = (now or timezone.now()) - timedelta(days=30)

    def at(days: float) -> datetime:
        return start + timedelta(days=days)

    with transaction.atomic():
        users = {}
        for username, display_name in PLAYERS.items():
            user = User.objects.create_user(username=username, email=f"{username}@example.test")
            user.profile.display_name = display_name
            user.profile.save()
            users[username] = user
        users["frank"].profile.activity_public = False
        users["frank"].profile.save()
        if staff_password:
            User.objects.create_superuser(DEMO_STAFF, f"{DEMO_STAFF}@example.test", staff_password)

        _solo_tournament(users, at)
        _team_tournament(users, at)

        first_win = Achievement.objects.create(code="first-win", name="First Win")
        champion = Achievement.objects.create(code="champion", name="Champion")
        UserAchievement.objects.create(
            user=users["alice"], achievement=first_win, unlocked_at=at(2)
        )
        UserAchievement.objects.create(user=users["alice"], achievement=champion, unlocked_at=at(3))
        UserAchievement.objects.create(
            user=users["bob"], achievement=first_win, unlocked_at=at(2.5)
        )
        DeltaCrownTransaction.objects.create(
            wallet=users["carol"].wallet, amount=-300, reason="purchase", created_at=at(10)
        )
    return DemoSummary(users=len(users), tournaments=2)


def _solo_tournament(users: dict[str, Any], at: Callable[[float], datetime]) -> None:
    winter = Tournament.objects.create(
        name="Winter Championship",
        game="valorant",
        status="registration",
        starts_at=at(2),
        entry_fee=100,
    )
    regs = {}
    for i, name in enumerate(["alice", "bob", "carol", "dave", "erin"]):
        regs[name] = Registration.objects.create(
            tournament=winter,
            user=users[name],
            status="confirmed",
            created_at=at(0.1 * i),
            confirmed_at=at(0.1 * i + 0.05),
        )
        DeltaCrownTransaction.objects.create(
            wallet=users[name].wallet,
            amount=-100,
            reason="entry_fee",
            tournament=winter,
            created_at=at(0.1 * i + 0.05),
        )
    for name in ["alice", "bob", "carol", "dave"]:
        regs[name].checked_in = True
        regs[name].checked_in_at = at(1.9)
        regs[name].save()
    regs["erin"].status = "no_show"
    regs["erin"].save()

    _decided(regs["alice"], regs["dave"], winner=regs["alice"], at=at(2.1))
    # carol forfeits: both played, nobody won or lost
    _decided(regs["bob"], regs["carol"], winner=regs["bob"], at=at(2.2), state="forfeit")
    final = _decided(regs["alice"], regs["bob"], winner=regs["bob"], at=at(2.5), round=2)
    # The referee's sheet was wrong: Alice won the final. The ledger appends the correction.
    final.winner, final.loser = regs["alice"], None
    final.save()

    TournamentResult.objects.create(
        tournament=winter,
        winner=regs["alice"],
        runner_up=regs["bob"],
        third_place=regs["carol"],
        fourth_place=regs["dave"],
        created_at=at(3),
    )
    winter.status = "completed"
    winter.save()
    for name, amount, reason in [
        ("alice", 1000, "winner"),
        ("bob", 500, "runner_up"),
        ("carol", 250, "top4"),
        ("dave", 250, "top4"),
    ]:
        DeltaCrownTransaction.objects.create(
            wallet=users[name].wallet,
            amount=amount,
            reason=reason,
            tournament=winter,
            created_at=at(3.1),
        )


def _team_tournament(users: dict[str, Any], at: Callable[[float], datetime]) -> None:
    owls = Team.objects.create(name="Night Owls", created_by=users["alice"], created_at=at(5))
    TeamMembership.objects.create(team=owls, user=users["bob"], joined_at=at(5.1))
    TeamMembership.objects.create(team=owls, user=users["erin"], joined_at=at(5.2))
    raiders = Team.objects.create(name="Dawn Raiders", created_by=users["carol"], created_at=at(5))
    TeamMembership.objects.create(team=raiders, user=users["dave"], joined_at=at(5.1))
    frank = TeamMembership.objects.create(team=raiders, user=users["frank"], joined_at=at(5.2))

    spring = Tournament.objects.create(
        name="Spring Invitational",
        game="valorant",
        status="registration",
        starts_at=at(8),
        team_size=3,
    )
    owls_reg, raiders_reg = (
        Registration.objects.create(
            tournament=spring,
            team=team,
            status="confirmed",
            confirmed_at=at(6),
            checked_in=True,
            checked_in_at=at(7.9),
        )
        for team in (owls, raiders)
    )
    _decided(owls_reg, raiders_reg, winner=owls_reg, at=at(8.5))
    TournamentResult.objects.create(
        tournament=spring, winner=owls_reg, runner_up=raiders_reg, created_at=at(9)
    )
    spring.status = "completed"
    spring.save()
    # Frank leaves after the tournament: his events of it stand, his membership ends.
    frank.left_at = at(12)
    frank.save()


def _decided(
    one: Registration,
    other: Registration,
    *,
    winner: Registration,
    at: datetime,
    round: int = 1,
    state: str = "completed",
) -> Match:
    """A match of two registrations of one tournament, played to its end at ``at``."""
    return Match.objects.create(
        tournament=one.tournament,
        round=round,
        participant1=one,
        participant2=other,
        state=state,
        winner=winner,
        completed_at=at,
    )
