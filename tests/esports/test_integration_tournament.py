"""Seed 8.3 (the parts of the core): whole tournaments through the platform's own models."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from esports.teams.models import Team
from esports.tournaments.models import Match, Registration, TournamentResult
from ledger.models import EventType, UserActivity
from tests.esports.scenario import (
    assert_stats_fold_everywhere,
    check_in,
    decide,
    events,
    feed,
    run_in_threads,
    stored_stats,
)
from tests.factories import (
    MatchFactory,
    MembershipFactory,
    RegistrationFactory,
    TeamFactory,
    TournamentFactory,
    UserFactory,
    transaction_for,
)

pytestmark = pytest.mark.django_db
T0 = timezone.now() - timedelta(days=60)


def test_end_to_end_tournament_completion() -> None:
    """Register, check in, win four matches, win the tournament, earn the prize."""
    tournament = TournamentFactory.create()
    champion = RegistrationFactory.create(tournament=tournament, user__username="ana")
    check_in(champion)
    rivals = []
    for name in ("bo", "cy", "dee", "eve"):
        rival = RegistrationFactory.create(tournament=tournament, user__username=name)
        check_in(rival)
        rivals.append(rival)
    for round_number, rival in enumerate(rivals, start=1):
        match = MatchFactory.create(participant1=champion, participant2=rival, round=round_number)
        decide(match, winner=champion)
    TournamentResult.objects.create(tournament=tournament, winner=champion, runner_up=rivals[-1])
    transaction_for(champion.user, 1000, "winner", tournament=tournament)

    assert events(user=champion.user) == sorted(
        [
            ("ana", EventType.TOURNAMENT_REGISTERED),
            ("ana", EventType.TOURNAMENT_JOINED),
            *[("ana", EventType.MATCH_PLAYED)] * 4,
            *[("ana", EventType.MATCH_WON)] * 4,
            ("ana", EventType.TOURNAMENT_WON),
            ("ana", EventType.TOURNAMENT_COMPLETED),
            ("ana", EventType.COINS_EARNED),
        ]
    )
    stats = stored_stats(champion.user_id)
    assert stats["tournaments_won"] == 1
    assert (stats["matches_played"], stats["matches_won"], stats["matches_lost"]) == (4, 4, 0)
    assert stats["total_earned"] == 1000
    assert stats["tournaments_played"] == stats["tournaments_completed"] == 1
    assert stored_stats(rivals[-1].user_id)["tournaments_runner_up"] == 1
    assert_stats_fold_everywhere()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_tournament_completions() -> None:
    """Two tournaments won by the same player complete at the same moment: two wins, exactly."""
    ana = UserFactory.create(username="ana")
    winners = []
    for _ in range(2):
        registration = RegistrationFactory.create(user=ana)
        check_in(registration)
        other = RegistrationFactory.create(tournament=registration.tournament)
        check_in(other)
        winners.append((registration.pk, other.pk, registration.tournament_id))

    def complete(i: int) -> None:
        winner_id, runner_up_id, tournament_id = winners[i]
        TournamentResult.objects.create(
            tournament_id=tournament_id, winner_id=winner_id, runner_up_id=runner_up_id
        )

    assert run_in_threads(complete, 2) == []
    assert UserActivity.objects.filter(user=ana, event_type="tournament_won").count() == 2
    stats = stored_stats(ana.pk)
    assert (stats["tournaments_won"], stats["tournaments_completed"]) == (2, 2)
    assert_stats_fold_everywhere()


def test_economy_sync_with_activity() -> None:
    tournament = TournamentFactory.create(entry_fee=50)
    ana = UserFactory.create(username="ana")
    transaction_for(ana, -50, "entry_fee", tournament=tournament)
    transaction_for(ana, 800, "winner", tournament=tournament)
    transaction_for(ana, 50, "refund", tournament=tournament)
    balance = sum(ana.wallet.transactions.values_list("amount", flat=True))

    assert feed(user=ana) == [
        ("ana", EventType.COINS_SPENT),
        ("ana", EventType.COINS_EARNED),
        ("ana", EventType.COINS_EARNED),
    ]
    stats = stored_stats(ana.pk)
    assert (stats["total_earned"], stats["total_spent"]) == (850, 50)
    assert stats["total_earned"] - stats["total_spent"] == balance == 800
    reasons = list(
        UserActivity.objects.filter(user=ana)
        .order_by("id")
        .values_list("metadata__reason", flat=True)
    )
    assert reasons == ["entry_fee", "winner", "refund"]


def test_no_show_registration_no_events() -> None:
    tournament = TournamentFactory.create()
    recorded_no_show = RegistrationFactory.create(
        tournament=tournament, user__username="ana", status=Registration.Status.NO_SHOW
    )
    confirmed_then_absent = RegistrationFactory.create(tournament=tournament, user__username="bo")
    confirmed_then_absent.status = Registration.Status.NO_SHOW
    confirmed_then_absent.save()
    present = check_in(RegistrationFactory.create(tournament=tournament, user__username="cy"))
    TournamentResult.objects.create(tournament=tournament, winner=present)

    assert events(event_type=EventType.TOURNAMENT_JOINED) == [("cy", EventType.TOURNAMENT_JOINED)]
    assert events(user=recorded_no_show.user) == []
    # Confirmed before not showing: the registration stands, nothing more (no completion either).
    assert events(user=confirmed_then_absent.user) == [("bo", EventType.TOURNAMENT_REGISTERED)]
    assert stored_stats(confirmed_then_absent.user_id)["tournaments_played"] == 0
    assert_stats_fold_everywhere()


def test_forfeit_match_creates_played_not_won() -> None:
    match = MatchFactory.create(
        participant1__user__username="ana", participant2__user__username="bo"
    )
    decide(match, winner=match.participant1, state=Match.State.FORFEIT)
    assert events(source_model="tournaments.match") == [
        ("ana", EventType.MATCH_PLAYED),
        ("bo", EventType.MATCH_PLAYED),
    ]
    assert all(
        metadata["forfeit"] is True
        for metadata in UserActivity.objects.filter(source_model="tournaments.match").values_list(
            "metadata", flat=True
        )
    )
    for reg in (match.participant1, match.participant2):
        stats = stored_stats(reg.user_id)
        assert (stats["matches_played"], stats["matches_won"], stats["matches_lost"]) == (1, 0, 0)
    assert_stats_fold_everywhere()


def test_disputed_match_result_handled() -> None:
    """Disputed: original events remain. Resolution appends only if the result changed."""
    match = MatchFactory.create(
        participant1__user__username="ana", participant2__user__username="bo"
    )
    decide(match, winner=match.participant1)
    original = list(UserActivity.objects.order_by("id").values("id", "event_type", "metadata"))

    match.state = Match.State.DISPUTED
    match.save()
    assert list(UserActivity.objects.order_by("id").values("id", "event_type", "metadata")) == (
        original
    )
    decide(match, winner=match.participant2)

    after = feed()
    assert sorted(after[len(original) :]) == [
        ("ana", EventType.MATCH_LOST),
        ("ana", "reversal:match_won"),
        ("bo", EventType.MATCH_WON),
        ("bo", "reversal:match_lost"),
    ]
    assert (
        list(
            UserActivity.objects.filter(id__in=[e["id"] for e in original])
            .order_by("id")
            .values("id", "event_type", "metadata")
        )
        == original
    )  # never edited (I4, I8)
    assert_stats_fold_everywhere()


def _team_of_five_and_two_bystanders() -> tuple[Team, list[str]]:
    """Five members through the event window, one who left before it, one who joined after."""
    team = TeamFactory.create(name="Red", created_by__username="m1", created_at=T0)
    for name in ("m2", "m3", "m4", "m5"):
        MembershipFactory.create(team=team, user__username=name, joined_at=T0)
    MembershipFactory.create(
        team=team,
        user__username="gone",
        joined_at=T0,
        left_at=T0 + timedelta(days=1),
    )
    MembershipFactory.create(team=team, user__username="late", joined_at=T0 + timedelta(days=40))
    return team, ["m1", "m2", "m3", "m4", "m5"]


def test_team_tournament_events_include_all_members() -> None:
    red, members = _team_of_five_and_two_bystanders()
    blue = TeamFactory.create(name="Blue", created_by__username="b1", created_at=T0)
    tournament = TournamentFactory.create(team_size=5)
    at = T0 + timedelta(days=10)
    red_reg = Registration.objects.create(
        tournament=tournament, team=red, status="confirmed", confirmed_at=at
    )
    blue_reg = Registration.objects.create(
        tournament=tournament, team=blue, status="confirmed", confirmed_at=at
    )
    for registration in (red_reg, blue_reg):
        check_in(registration, at=at + timedelta(hours=1))
    match = Match.objects.create(tournament=tournament, participant1=red_reg, participant2=blue_reg)
    decide(match, winner=red_reg, at=at + timedelta(hours=2))
    TournamentResult.objects.create(
        tournament=tournament,
        winner=red_reg,
        runner_up=blue_reg,
        created_at=at + timedelta(hours=3),
    )

    per_member = sorted(
        [
            EventType.TOURNAMENT_REGISTERED,
            EventType.TOURNAMENT_JOINED,
            EventType.MATCH_PLAYED,
            EventType.MATCH_WON,
            EventType.TOURNAMENT_WON,
            EventType.TOURNAMENT_COMPLETED,
        ]
    )
    for name in members:
        assert [
            kind for _, kind in events(user__username=name, source_model__startswith="tour")
        ] == per_member, name
        member = get_user_model().objects.get(username=name)
        assert stored_stats(member.pk)["tournaments_won"] == 1
    # Left before the tournament, joined after it: nothing of it.
    assert events(user__username="gone", source_model__startswith="tour") == []
    assert events(user__username="late", source_model__startswith="tour") == []
    assert events(user__username="b1", source_model__startswith="tour") == sorted(
        [
            ("b1", EventType.TOURNAMENT_REGISTERED),
            ("b1", EventType.TOURNAMENT_JOINED),
            ("b1", EventType.MATCH_PLAYED),
            ("b1", EventType.MATCH_LOST),
            ("b1", EventType.TOURNAMENT_RUNNER_UP),
            ("b1", EventType.TOURNAMENT_COMPLETED),
        ]
    )
    won = UserActivity.objects.filter(event_type=EventType.TOURNAMENT_WON).first()
    assert won is not None
    assert won.metadata["team"] == {"team_id": red.pk, "team_name": "Red"}
    opponent = UserActivity.objects.get(user__username="m1", event_type=EventType.MATCH_WON)
    assert opponent.metadata["opponent"] == {
        "kind": "team",
        "team_id": blue.pk,
        "team_name": "Blue",
    }
    assert_stats_fold_everywhere()


def test_member_who_leaves_mid_tournament_keeps_only_what_happened_while_in() -> None:
    team = TeamFactory.create(name="Red", created_by__username="m1", created_at=T0)
    leaver = MembershipFactory.create(team=team, user__username="m2", joined_at=T0)
    registration = Registration.objects.create(
        tournament=TournamentFactory.create(), team=team, status="confirmed", confirmed_at=T0
    )
    check_in(registration, at=T0 + timedelta(hours=1))
    leaver.left_at = T0 + timedelta(hours=2)
    leaver.save()
    TournamentResult.objects.create(
        tournament=registration.tournament,
        winner=registration,
        created_at=T0 + timedelta(hours=3),
    )
    assert feed(user__username="m2") == [
        ("m2", EventType.TEAM_JOINED),
        ("m2", EventType.TOURNAMENT_REGISTERED),
        ("m2", EventType.TOURNAMENT_JOINED),
        ("m2", EventType.TEAM_LEFT),
    ]
    assert events(user__username="m1", source_model="tournaments.result") == [
        ("m1", EventType.TOURNAMENT_COMPLETED),
        ("m1", EventType.TOURNAMENT_WON),
    ]
    assert_stats_fold_everywhere()
