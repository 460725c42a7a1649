"""Factories for the platform's rows; saving them drives the ledger exactly as production does.

Call them as ``XFactory.create(...)``: factory_boy's metaclass call is untyped for mypy.
"""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model

from esports.achievements.models import Achievement, UserAchievement
from esports.economy.models import DeltaCrownTransaction
from esports.teams.models import Team, TeamMembership
from esports.tournaments.models import Match, Registration, Tournament, TournamentResult


class UserFactory(factory.django.DjangoModelFactory[Any]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"player{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")


class TournamentFactory(factory.django.DjangoModelFactory[Tournament]):
    class Meta:
        model = Tournament

    name = factory.Sequence(lambda n: f"Cup {n}")
    game = "valorant"
    status = Tournament.Status.REGISTRATION


class TeamFactory(factory.django.DjangoModelFactory[Team]):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    created_by = factory.SubFactory(UserFactory)


class MembershipFactory(factory.django.DjangoModelFactory[TeamMembership]):
    class Meta:
        model = TeamMembership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)


class RegistrationFactory(factory.django.DjangoModelFactory[Registration]):
    """A confirmed solo registration unless told otherwise."""

    class Meta:
        model = Registration

    tournament = factory.SubFactory(TournamentFactory)
    user = factory.SubFactory(UserFactory)
    status = Registration.Status.CONFIRMED


class MatchFactory(factory.django.DjangoModelFactory[Match]):
    class Meta:
        model = Match

    tournament = factory.LazyAttribute(lambda m: m.participant1.tournament)
    participant1 = factory.SubFactory(RegistrationFactory)
    participant2 = factory.SubFactory(
        RegistrationFactory, tournament=factory.SelfAttribute("..participant1.tournament")
    )


class ResultFactory(factory.django.DjangoModelFactory[TournamentResult]):
    class Meta:
        model = TournamentResult

    tournament = factory.LazyAttribute(lambda r: r.winner.tournament)
    winner = factory.SubFactory(RegistrationFactory)


class AchievementFactory(factory.django.DjangoModelFactory[Achievement]):
    class Meta:
        model = Achievement
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"achievement-{n}")
    name = factory.LazyAttribute(lambda a: a.code.replace("-", " ").title())


class UnlockFactory(factory.django.DjangoModelFactory[UserAchievement]):
    class Meta:
        model = UserAchievement

    user = factory.SubFactory(UserFactory)
    achievement = factory.SubFactory(AchievementFactory)


def transaction_for(
    user: Any, amount: int, reason: str = "winner", **extra: Any
) -> DeltaCrownTransaction:
    """A DeltaCoin transaction on ``user``'s wallet (wallets come with users)."""
    return DeltaCrownTransaction.objects.create(
        wallet=user.wallet, amount=amount, reason=reason, **extra
    )
