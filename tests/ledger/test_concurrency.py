"""Concurrency on PostgreSQL: real threads, each on its own connection, started together.

No deadlock (a deadlock or serialization error would surface as a thread's error), no lost
update (exact counts), and I1/I2 hold once the dust settles.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from esports.teams.models import TeamMembership
from esports.tournaments.models import Match, Registration
from ledger.drafts import NewEvent
from ledger.models import EventType, UserActivity
from ledger.services.convergence import converge_rows, plan_convergence
from ledger.services.recording import record_activity
from ledger.sources import all_sources, get_source
from tests.esports.scenario import assert_stats_fold_everywhere, run_in_threads, stored_stats
from tests.factories import (
    MatchFactory,
    RegistrationFactory,
    TeamFactory,
    TournamentFactory,
    UserFactory,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_threads_recording_for_one_user_end_with_exact_counts() -> None:
    ana, bo = UserFactory.create(), UserFactory.create()

    def record(i: int) -> None:
        # Users listed in both orders across threads: the write path must lock consistently.
        users = (ana.pk, bo.pk) if i % 2 else (bo.pk, ana.pk)
        record_activity(
            events=[
                NewEvent(
                    user_id=user_id,
                    event_type=kind,
                    timestamp=timezone.now(),
                    metadata={"thread": i},
                    source_model="tests.threads",
                    source_id=i,
                    amount=10 if kind == EventType.COINS_EARNED else 0,
                )
                for user_id in users
                for kind in (EventType.MATCH_PLAYED, EventType.MATCH_WON, EventType.COINS_EARNED)
            ]
        )

    assert run_in_threads(record, 10) == []
    for user in (ana, bo):
        stats = stored_stats(user.pk)
        assert (stats["matches_played"], stats["matches_won"], stats["total_earned"]) == (
            10,
            10,
            100,
        )
        assert UserActivity.objects.filter(user=user).count() == 30
    assert_stats_fold_everywhere()


def test_matches_between_the_same_users_completing_at_once() -> None:
    tournament = TournamentFactory.create()
    ana = RegistrationFactory.create(tournament=tournament, user__username="ana")
    bo = RegistrationFactory.create(tournament=tournament, user__username="bo")
    # Sides in both orders, so the two users come to each transaction in both orders.
    match_ids = [
        MatchFactory.create(
            tournament=tournament,
            participant1=ana if i % 2 else bo,
            participant2=bo if i % 2 else ana,
            round=i + 1,
        ).pk
        for i in range(10)
    ]

    def complete(i: int) -> None:
        match = Match.objects.get(pk=match_ids[i])
        match.state = Match.State.COMPLETED
        match.winner = match.participant1 if i < 7 else match.participant2
        match.save()

    assert run_in_threads(complete, 10) == []
    winners = Match.objects.values_list("winner__user__username", flat=True)
    ana_wins = list(winners).count("ana")
    a, b = stored_stats(ana.user_id), stored_stats(bo.user_id)
    assert (a["matches_played"], a["matches_won"], a["matches_lost"]) == (
        10,
        ana_wins,
        10 - ana_wins,
    )
    assert (b["matches_played"], b["matches_won"], b["matches_lost"]) == (
        10,
        10 - ana_wins,
        ana_wins,
    )
    assert UserActivity.objects.filter(source_model="tournaments.match").count() == 40
    assert_stats_fold_everywhere()


@pytest.mark.parametrize("final", ["same correction twice", "opposite corrections"])
def test_two_threads_correcting_the_same_match(final: str) -> None:
    match = MatchFactory.create()
    match.state, match.winner = Match.State.COMPLETED, match.participant1
    match.save()

    def correct(i: int) -> None:
        fresh = Match.objects.get(pk=match.pk)
        if final == "same correction twice" or i == 0:
            fresh.winner = fresh.participant2
        else:
            fresh.winner = fresh.participant1
        fresh.save()

    assert run_in_threads(correct, 2) == []
    settled = Match.objects.get(pk=match.pk)
    source = get_source("tournaments.match")
    assert plan_convergence(source=source, rows=[settled]) == []  # the ledger tells the row
    winner = settled.winner
    assert winner is not None
    won = UserActivity.objects.filter(
        source_model="tournaments.match", event_type=EventType.MATCH_WON, reversed_by__isnull=True
    )
    assert list(won.values_list("user_id", flat=True)) == [winner.user_id]
    assert stored_stats(winner.user_id)["matches_won"] == 1
    assert_stats_fold_everywhere()


def test_the_same_row_converged_by_many_threads_is_recorded_once() -> None:
    """Live receiver, backfill and a retried job converging one row at once: I2 holds."""
    match = MatchFactory.create()
    Match.objects.filter(pk=match.pk).update(
        state=Match.State.COMPLETED,
        winner=match.participant1,
        loser=match.participant2,
        completed_at=timezone.now(),
    )
    source = get_source("tournaments.match")

    def converge(i: int) -> None:
        converge_rows(source=source, rows=list(source.rows().filter(pk=match.pk)))

    assert run_in_threads(converge, 6) == []
    assert UserActivity.objects.filter(source_model="tournaments.match").count() == 4
    assert stored_stats(match.participant1.user_id)["matches_won"] == 1
    assert stored_stats(match.participant2.user_id)["matches_played"] == 1
    assert_stats_fold_everywhere()


def test_wide_batches_over_the_same_users_in_opposite_orders_do_not_deadlock() -> None:
    """Each batch touches 150 users; half the threads list them backwards. Locks are taken in
    user-id order whatever the batch order, so the batches queue instead of deadlocking."""
    user_ids = [UserFactory.create().pk for _ in range(150)]

    def record(i: int) -> None:
        order = user_ids if i % 2 else list(reversed(user_ids))
        record_activity(
            events=[
                NewEvent(
                    user_id=user_id,
                    event_type=EventType.MATCH_PLAYED,
                    timestamp=timezone.now(),
                    metadata={},
                    source_model="tests.wide",
                    source_id=i,
                )
                for user_id in order
            ]
        )

    assert run_in_threads(record, 6) == []
    assert {stored_stats(pk)["matches_played"] for pk in user_ids} == {6}
    assert_stats_fold_everywhere()


def test_a_backdated_membership_and_a_check_in_at_once_converge() -> None:
    """The membership re-converges the team's registration while the registration is being
    checked in: the lock makes one wait for the other, and nothing is left unconverged."""
    past = timezone.now() - timedelta(days=3)
    team = TeamFactory.create(created_at=past)
    newcomer = UserFactory.create()
    registration = Registration.objects.create(
        tournament=TournamentFactory.create(), team=team, status="confirmed", confirmed_at=past
    )

    def act(i: int) -> None:
        if i == 0:
            fresh = Registration.objects.get(pk=registration.pk)
            fresh.checked_in = True
            fresh.save()
        else:
            TeamMembership.objects.create(team=team, user=newcomer, joined_at=past)

    assert run_in_threads(act, 2) == []
    for source in all_sources():
        assert plan_convergence(source=source, rows=list(source.rows())) == [], source.name
    assert (
        UserActivity.objects.filter(
            user=newcomer, event_type__in=["tournament_registered", "tournament_joined"]
        ).count()
        == 2
    )
    assert_stats_fold_everywhere()
