"""Seed 8.2: the stats projection is the fold of the ledger, kept in the same transaction."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save
from django.utils import timezone

from esports.tournaments.models import Match, Registration
from ledger.counters import COUNTER_FIELDS
from ledger.drafts import NewEvent, RecordedEvent
from ledger.models import EventType, UserActivity, UserProfileStats
from ledger.services.recording import record_activity
from ledger.services.stats import recompute_stats
from ledger.signals import activity_recorded
from tests.esports.scenario import (
    assert_stats_fold_everywhere,
    check_in,
    decide,
    events,
    run_in_threads,
    stored_stats,
)
from tests.factories import (
    MatchFactory,
    MembershipFactory,
    RegistrationFactory,
    ResultFactory,
    TournamentFactory,
    UserFactory,
    transaction_for,
)

pytestmark = pytest.mark.django_db


def _event(user_id: int | None, event_type: str, source_id: int = 1, **extra: Any) -> NewEvent:
    assert user_id is not None
    return NewEvent(
        user_id=user_id,
        event_type=event_type,
        timestamp=extra.pop("timestamp", timezone.now()),
        metadata={},
        source_model="tests.stats",
        source_id=source_id,
        **extra,
    )


def test_tournament_won_increments_stat() -> None:
    winner = RegistrationFactory.create()
    assert stored_stats(winner.user_id)["tournaments_won"] == 0
    ResultFactory.create(winner=winner)
    assert stored_stats(winner.user_id)["tournaments_won"] == 1
    other = RegistrationFactory.create(user=winner.user)
    ResultFactory.create(winner=other)
    assert stored_stats(winner.user_id)["tournaments_won"] == 2
    assert_stats_fold_everywhere()


def test_match_won_increments_two_stats() -> None:
    """A completed match gives its winner match_played and match_won: two counters move."""
    match = MatchFactory.create()
    decide(match, winner=match.participant1)
    winner, loser = (
        stored_stats(match.participant1.user_id),
        stored_stats(match.participant2.user_id),
    )
    assert (winner["matches_played"], winner["matches_won"], winner["matches_lost"]) == (1, 1, 0)
    assert (loser["matches_played"], loser["matches_won"], loser["matches_lost"]) == (1, 0, 1)

    # DESIGN: matches_played comes from match_played events alone; a bare match_won adds a win.
    user = UserFactory.create()
    record_activity(events=[_event(user.pk, EventType.MATCH_WON)])
    alone = stored_stats(user.pk)
    assert (alone["matches_played"], alone["matches_won"]) == (0, 1)
    assert_stats_fold_everywhere()


def test_f_expression_prevents_race_condition() -> None:
    """The write path adds to the stored value in SQL: a change it did not read is kept."""
    user = UserFactory.create()
    record_activity(events=[_event(user.pk, EventType.MATCH_WON, source_id=1)])
    stale = UserProfileStats.objects.get(user=user)  # what a Python read-modify-write would see
    # Another writer (simulated) moves the counter after our read.
    UserProfileStats.objects.filter(user=user).update(matches_won=7)
    record_activity(events=[_event(user.pk, EventType.MATCH_WON, source_id=2)])
    assert stored_stats(user.pk)["matches_won"] == 8  # 7 + 1, not stale (1) + 1
    assert stale.matches_won == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_f_expression_prevents_race_condition_under_threads() -> None:
    """10 concurrent batches for one user: final count 10, no lost update."""
    user = UserFactory.create()

    def win(i: int) -> None:
        record_activity(events=[_event(user.pk, EventType.MATCH_WON, source_id=i)])

    assert run_in_threads(win, 10) == []
    assert stored_stats(user.pk)["matches_won"] == 10
    assert_stats_fold_everywhere()


def test_stats_recomputation_matches_events() -> None:
    tournament = TournamentFactory.create(entry_fee=10)
    a = RegistrationFactory.create(tournament=tournament, user__username="ana")
    b = RegistrationFactory.create(tournament=tournament, user__username="bo")
    check_in(a)
    check_in(b)
    match = MatchFactory.create(participant1=a, participant2=b)
    decide(match, winner=a)
    decide(match, winner=b)  # corrected: reversals and the new outcome
    ResultFactory.create(tournament=tournament, winner=b, runner_up=a)
    transaction_for(b.user, 300)
    transaction_for(a.user, -10, "entry_fee")
    MembershipFactory.create(user=a.user, left_at=timezone.now() + timedelta(days=1))

    for user in (a.user, b.user):
        assert stored_stats(user.pk) == recompute_stats(user=user)
    assert recompute_stats(user=b.user)["matches_won"] == 1
    assert recompute_stats(user=a.user)["matches_won"] == 0
    assert recompute_stats(user=a.user)["matches_lost"] == 1
    assert recompute_stats(user=a.user)["current_teams_count"] == 0
    assert recompute_stats(user=a.user)["teams_joined"] == 1
    assert UserActivity.objects.filter(user=a.user, event_type="reversal").count() == 1
    assert_stats_fold_everywhere()


def test_recompute_is_two_queries(django_assert_num_queries: Any) -> None:
    """One grouped query over the hot events, one read of the archived baselines."""
    match = MatchFactory.create()
    decide(match, winner=match.participant1)
    transaction_for(match.participant1.user, 50)
    with django_assert_num_queries(2):
        recompute_stats(user=match.participant1.user)


def test_win_rate_computed_property_accurate() -> None:
    user = UserFactory.create()
    record_activity(
        events=[_event(user.pk, EventType.MATCH_PLAYED, source_id=i) for i in range(4)]
        + [_event(user.pk, EventType.MATCH_WON, source_id=i) for i in range(3)]
        + [_event(user.pk, EventType.MATCH_LOST, source_id=3)]
        + [_event(user.pk, EventType.TOURNAMENT_JOINED, source_id=i) for i in range(3)]
        + [_event(user.pk, EventType.TOURNAMENT_WON, source_id=0)]
    )
    stats = UserProfileStats.objects.get(user=user)
    assert stats.win_rate == Decimal("0.75")
    assert stats.tournament_win_rate == Decimal(1) / Decimal(3)
    assert Decimal(0) <= stats.win_rate <= Decimal(1)

    perfect = UserFactory.create()
    record_activity(
        events=[
            _event(perfect.pk, EventType.MATCH_PLAYED, source_id=9),
            _event(perfect.pk, EventType.MATCH_WON, source_id=9),
        ]
    )
    assert UserProfileStats.objects.get(user=perfect).win_rate == Decimal(1)


def test_total_earned_matches_economy_ledger() -> None:
    user = UserFactory.create()
    amounts = [500, 250, -100, 75, -30]
    for amount in amounts:
        transaction_for(user, amount, "winner" if amount > 0 else "purchase")
    stats = UserProfileStats.objects.get(user=user)
    coins = user.wallet.transactions.values_list("amount", flat=True)
    assert stats.total_earned == sum(a for a in coins if a > 0) == 825
    assert stats.total_spent == -sum(a for a in coins if a < 0) == 130
    assert stats.net_earnings == sum(coins) == 695
    event_amounts = UserActivity.objects.filter(user=user, event_type="coins_earned").values_list(
        "amount", flat=True
    )
    assert sum(event_amounts) == stats.total_earned


def test_zero_matches_played_win_rate_zero() -> None:
    user = UserFactory.create()
    transaction_for(user, 10)  # has a stats row, but no matches or tournaments
    stats = UserProfileStats.objects.get(user=user)
    assert stats.matches_played == 0
    assert stats.win_rate == Decimal(0)
    assert stats.tournament_win_rate == Decimal(0)
    assert UserProfileStats(user=user).win_rate == Decimal(0)


@pytest.mark.django_db(transaction=True)
def test_stats_update_atomic_with_event_creation() -> None:
    """I5: a failure after the events are inserted rolls back row, events and stats together;
    subscribers hear nothing of it, and hear of a committed batch only after the commit."""
    match = MatchFactory.create()
    winner_id = match.participant1.user_id
    stats_before = stored_stats(winner_id)
    heard: list[tuple[tuple[RecordedEvent, ...], bool]] = []

    def listen(sender: Any, events: tuple[RecordedEvent, ...], **_: Any) -> None:
        heard.append((events, connection.in_atomic_block))

    def fail_after_ledger(sender: Any, instance: Match, **_: Any) -> None:
        assert UserActivity.objects.filter(source_model="tournaments.match").count() == 4
        raise RuntimeError("a later receiver fails")

    activity_recorded.connect(listen, weak=False, dispatch_uid="test-listen")
    post_save.connect(fail_after_ledger, sender=Match, weak=False, dispatch_uid="test-fail")
    try:
        with pytest.raises(RuntimeError, match="later receiver"):
            decide(match, winner=match.participant1)
        post_save.disconnect(sender=Match, dispatch_uid="test-fail")

        assert Match.objects.get(pk=match.pk).state == Match.State.SCHEDULED
        assert events(source_model="tournaments.match") == []
        assert stored_stats(winner_id) == stats_before
        assert heard == []

        fresh = Match.objects.get(pk=match.pk)
        with transaction.atomic():
            decide(fresh, winner=fresh.participant1)
            assert heard == []  # not before the commit
        assert len(heard) == 1
        batch, in_transaction = heard[0]
        assert not in_transaction
        assert sorted(e.id for e in batch) == sorted(
            UserActivity.objects.filter(source_model="tournaments.match").values_list(
                "id", flat=True
            )
        )
        assert stored_stats(winner_id)["matches_won"] == 1
    finally:
        post_save.disconnect(sender=Match, dispatch_uid="test-fail")
        activity_recorded.disconnect(dispatch_uid="test-listen")


def test_a_refused_delta_rolls_back_its_events() -> None:
    """I5 inside the write path: the stats UPDATE fails after the INSERT; neither stays."""
    user = UserFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        record_activity(
            events=[
                _event(user.pk, EventType.MATCH_WON, source_id=1),
                _event(user.pk, EventType.TEAM_LEFT, source_id=2),  # would go below zero
            ]
        )
    assert UserActivity.objects.filter(user=user).count() == 0
    assert stored_stats(user.pk)["matches_won"] == 0


def test_multiple_tournaments_cumulative_count() -> None:
    user = UserFactory.create()
    for _ in range(3):
        registration = RegistrationFactory.create(user=user)
        check_in(registration)
        ResultFactory.create(winner=registration)
    stats = stored_stats(user.pk)
    assert (
        stats["tournaments_registered"],
        stats["tournaments_played"],
        stats["tournaments_completed"],
        stats["tournaments_won"],
    ) == (3, 3, 3, 3)
    assert_stats_fold_everywhere()


@pytest.mark.parametrize("field", COUNTER_FIELDS)
def test_negative_stats_impossible(field: str) -> None:
    """I6: the database refuses a negative counter, whatever writes it (both backends)."""
    user = UserFactory.create()
    transaction_for(user, 5)
    with pytest.raises(IntegrityError), transaction.atomic():
        UserProfileStats.objects.filter(user=user).update(**{field: -1})
    assert stored_stats(user.pk)[field] == (5 if field == "total_earned" else 0)


def test_negative_stats_impossible_through_the_write_path() -> None:
    registration = RegistrationFactory.create(status=Registration.Status.PENDING)
    user_id = registration.user_id
    assert user_id is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        record_activity(events=[_event(user_id, EventType.TEAM_LEFT)])
    assert UserActivity.objects.filter(user_id=user_id).count() == 0
    assert stored_stats(user_id)["current_teams_count"] == 0
