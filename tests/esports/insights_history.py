"""One platform history for the insights tests (issue 17): two players in two games, with a
correction long after the match and a forfeit.

Ann and Bob meet in five matches, oldest first: m1 (valorant) Ann; m2 (valorant) Bob, corrected
to Ann after m5; m3 (cs2) Ann; m4 (cs2) a forfeit Bob wins; m5 (valorant) Ann. Ann's decided
matches in match order, once corrected: W W W (forfeit) W.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from esports.tournaments.models import Match, Registration, Tournament
from tests.esports.scenario import check_in, decide
from tests.factories import MatchFactory, RegistrationFactory, TournamentFactory, UserFactory

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@dataclass
class Rivals:
    ann: Any
    bob: Any
    valorant: Tournament
    cs2: Tournament
    matches: list[Match]


def _pair(tournament: Tournament, ann: Any, bob: Any) -> tuple[Registration, Registration]:
    sides = []
    for user in (ann, bob):
        registration = RegistrationFactory.create(tournament=tournament, user=user, confirmed_at=T0)
        sides.append(check_in(registration, at=T0 + timedelta(minutes=1)))
    return sides[0], sides[1]


def rivals(*, corrected: bool = True) -> Rivals:
    """The history; ``corrected=False`` stops before m2's correction."""
    ann = UserFactory.create(username="ann")
    bob = UserFactory.create(username="bob")
    valorant = TournamentFactory.create(name="Valorant Cup", game="valorant")
    cs2 = TournamentFactory.create(name="CS2 Cup", game="cs2")
    ann_v, bob_v = _pair(valorant, ann, bob)
    ann_c, bob_c = _pair(cs2, ann, bob)
    plan = [
        (ann_v, bob_v, ann_v, Match.State.COMPLETED),
        (ann_v, bob_v, bob_v, Match.State.COMPLETED),
        (ann_c, bob_c, ann_c, Match.State.COMPLETED),
        (ann_c, bob_c, bob_c, Match.State.FORFEIT),
        (ann_v, bob_v, ann_v, Match.State.COMPLETED),
    ]
    matches = []
    for i, (one, two, winner, state) in enumerate(plan, start=1):
        match = MatchFactory.create(participant1=one, participant2=two, round=i)
        matches.append(decide(match, winner=winner, state=state, at=T0 + timedelta(hours=i)))
    if corrected:
        decide(matches[1], winner=ann_v)  # m2's result corrected, long after
    return Rivals(ann, bob, valorant, cs2, matches)
