"""Seed 8.1: platform actions become events, once, immutable, with what a feed needs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save
from django.test import RequestFactory
from django.utils import timezone

from esports.economy.models import DeltaCrownTransaction
from esports.tournaments.models import Match, Registration
from ledger.drafts import NewEvent
from ledger.exceptions import ImmutableEventError
from ledger.models import EventType, UserActivity, UserProfileStats
from ledger.services.convergence import converge_rows
from ledger.services.recording import record_activity
from ledger.sources import get_source
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
    RegistrationFactory,
    ResultFactory,
    TeamFactory,
    TournamentFactory,
    UnlockFactory,
    UserFactory,
    transaction_for,
)

pytestmark = pytest.mark.django_db


def test_tournament_registration_creates_event() -> None:
    confirmed_at = timezone.now() - timedelta(days=3)
    registration = RegistrationFactory.create(
        status=Registration.Status.PENDING, user__username="ana"
    )
    assert events() == []  # pending stands for nothing yet

    registration.status = Registration.Status.CONFIRMED
    registration.confirmed_at = confirmed_at
    registration.save()

    event = UserActivity.objects.get()
    assert (event.user.username, event.event_type) == ("ana", EventType.TOURNAMENT_REGISTERED)
    assert event.timestamp == confirmed_at  # I7: when it happened, not when we learned of it
    assert event.created_at > confirmed_at
    assert (event.source_model, event.source_id) == ("tournaments.registration", registration.pk)
    assert stored_stats(registration.user_id)["tournaments_registered"] == 1

    # Confirmed on creation records at once too.
    RegistrationFactory.create(user__username="bo", tournament=registration.tournament)
    assert events() == [
        ("ana", EventType.TOURNAMENT_REGISTERED),
        ("bo", EventType.TOURNAMENT_REGISTERED),
    ]


def test_match_completion_creates_three_events() -> None:
    match = MatchFactory.create(
        participant1__user__username="ana", participant2__user__username="bo"
    )
    assert events(source_model="tournaments.match") == []  # scheduled: nothing yet

    decide(match, winner=match.participant2)

    assert events(source_model="tournaments.match") == [
        ("ana", EventType.MATCH_LOST),
        ("ana", EventType.MATCH_PLAYED),
        ("bo", EventType.MATCH_PLAYED),
        ("bo", EventType.MATCH_WON),
    ]
    ana, bo = match.participant1.user, match.participant2.user
    assert {k: stored_stats(bo.pk)[k] for k in ("matches_played", "matches_won")} == {
        "matches_played": 1,
        "matches_won": 1,
    }
    assert {k: stored_stats(ana.pk)[k] for k in ("matches_played", "matches_lost")} == {
        "matches_played": 1,
        "matches_lost": 1,
    }
    assert_stats_fold_everywhere()


def test_tournament_result_creates_placement_events() -> None:
    tournament = TournamentFactory.create()
    names = ["p1", "p2", "p3", "p4", "p5", "absent"]
    regs = {
        name: RegistrationFactory.create(tournament=tournament, user__username=name)
        for name in names
    }
    for name in names[:5]:
        check_in(regs[name])

    ResultFactory.create(
        tournament=tournament,
        winner=regs["p1"],
        runner_up=regs["p2"],
        third_place=regs["p3"],
        fourth_place=regs["p4"],
    )

    assert events(source_model="tournaments.result") == [
        ("p1", EventType.TOURNAMENT_COMPLETED),
        ("p1", EventType.TOURNAMENT_WON),
        ("p2", EventType.TOURNAMENT_COMPLETED),
        ("p2", EventType.TOURNAMENT_RUNNER_UP),
        ("p3", EventType.TOURNAMENT_COMPLETED),
        ("p3", EventType.TOURNAMENT_TOP4),
        ("p4", EventType.TOURNAMENT_COMPLETED),
        ("p4", EventType.TOURNAMENT_TOP4),
        ("p5", EventType.TOURNAMENT_COMPLETED),  # checked in, no placement
    ]  # "absent" never checked in: nothing
    placements = dict(
        UserActivity.objects.filter(
            source_model="tournaments.result", event_type__in=["tournament_won", "tournament_top4"]
        ).values_list("user__username", "metadata__placement")
    )
    assert placements == {"p1": 1, "p3": 3, "p4": 4}
    assert stored_stats(regs["p1"].user_id)["tournaments_won"] == 1
    assert stored_stats(regs["p4"].user_id)["tournaments_top4"] == 1
    assert_stats_fold_everywhere()


def test_economy_transaction_creates_earn_or_spend_event() -> None:
    user = UserFactory.create(username="ana")
    tournament = TournamentFactory.create(name="Spring Cup")
    prize = transaction_for(user, 500, "winner", tournament=tournament)
    fee = transaction_for(user, -120, "entry_fee")

    earned = UserActivity.objects.get(source_id=prize.pk, source_model="economy.transaction")
    spent = UserActivity.objects.get(source_id=fee.pk, source_model="economy.transaction")
    assert (earned.event_type, earned.amount) == (EventType.COINS_EARNED, 500)
    assert (spent.event_type, spent.amount) == (EventType.COINS_SPENT, 120)
    assert earned.metadata == {
        "transaction_id": prize.pk,
        "amount": 500,
        "reason": "winner",
        "tournament_id": tournament.pk,
        "tournament_name": "Spring Cup",
    }
    assert spent.metadata == {"transaction_id": fee.pk, "amount": 120, "reason": "entry_fee"}
    stats = stored_stats(user.pk)
    assert (stats["total_earned"], stats["total_spent"]) == (500, 120)
    assert UserProfileStats.objects.get(user=user).net_earnings == 380


def test_event_immutability() -> None:
    """Model and queryset writes are refused on every backend; the admin is read-only (I4)."""
    transaction_for(UserFactory.create(), 50)
    event = UserActivity.objects.get()
    original = (event.event_type, event.amount, event.metadata)

    event.amount = 5000
    refusals: list[Any] = [
        event.save,
        event.delete,
        lambda: UserActivity.objects.update(amount=1),
        lambda: UserActivity.objects.filter(pk=event.pk).delete(),
        lambda: UserActivity.objects.all().delete(),
        lambda: UserActivity.objects.bulk_update([event], ["amount"]),
        lambda: UserActivity.objects.bulk_create([UserActivity(event_type="match_won")]),
        lambda: UserActivity.objects.update_or_create(pk=event.pk, defaults={"amount": 1}),  # type: ignore[misc]
        lambda: UserActivity.objects.create(
            user_id=event.user_id,
            event_type="match_won",
            timestamp=timezone.now(),
            source_model="x",
            source_id=1,
        ),
    ]
    for refused in refusals:
        with pytest.raises(ImmutableEventError):
            refused()

    if connection.vendor == "postgresql":  # and the database itself, below the ORM
        for sql in ("UPDATE ledger_useractivity SET amount = 1", "DELETE FROM ledger_useractivity"):
            with (
                pytest.raises(IntegrityError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql)

    stored = UserActivity.objects.values_list("event_type", "amount", "metadata").get()
    assert stored == original
    assert UserActivity.objects.count() == 1

    request = RequestFactory().get("/admin/")
    request.user = get_user_model().objects.create_superuser("root", "r@example.test", "pw")
    for model in (UserActivity, UserProfileStats):
        admin = site._registry[model]
        assert not admin.has_add_permission(request)
        assert not admin.has_change_permission(request, event)
        assert not admin.has_delete_permission(request, event)
    activity_admin = site._registry[UserActivity]
    assert list(activity_admin.list_display) == [
        "user",
        "event_type",
        "timestamp",
        "source_model",
        "source_id",
    ]
    assert "event_type" in activity_admin.list_filter
    assert "user__username" in activity_admin.search_fields


def test_duplicate_event_prevention(stats_of: Any) -> None:
    """I2: a second signal, a second convergence, a re-recorded batch count nothing twice."""
    match = MatchFactory.create()
    decide(match, winner=match.participant1)
    winner = match.participant1.user
    before_events = events()
    before_stats = stats_of(winner)

    # The post_save signal fires again for the same row.
    post_save.send(sender=Match, instance=match, created=False, raw=False, using="default")
    match.save()
    # Backfill-style convergence of the same row, twice.
    for _ in range(2):
        assert converge_rows(source=get_source("tournaments.match"), rows=[match]).planned == []
    # The write path handed the very same keyed events again.
    same = [
        NewEvent(
            user_id=row.user_id,
            event_type=row.event_type,
            timestamp=row.timestamp,
            metadata=row.metadata,
            source_model=row.source_model,
            source_id=row.source_id,
            occurrence=row.occurrence,
        )
        for row in UserActivity.objects.all()
        if row.user_id is not None
    ]
    assert record_activity(events=same) == []
    assert record_activity(events=same + same) == []

    assert events() == before_events
    assert stats_of(winner) == before_stats
    assert stats_of(winner)["matches_won"] == 1
    assert_stats_fold_everywhere()


def test_duplicate_drafts_within_one_batch_are_recorded_and_counted_once() -> None:
    user = UserFactory.create()
    draft = NewEvent(
        user_id=user.pk,
        event_type=EventType.MATCH_WON,
        timestamp=timezone.now(),
        metadata={},
        source_model="tests.batch",
        source_id=1,
    )
    recorded = record_activity(events=[draft, draft, draft])
    assert len(recorded) == 1
    assert stored_stats(user.pk)["matches_won"] == 1
    assert_stats_fold_everywhere()


REQUIRED_METADATA: dict[str, set[str]] = {
    EventType.TOURNAMENT_REGISTERED: {"tournament_id", "tournament_name", "registration_id"},
    EventType.TOURNAMENT_JOINED: {"tournament_id", "tournament_name", "registration_id"},
    EventType.TOURNAMENT_COMPLETED: {"tournament_id", "tournament_name", "placement"},
    EventType.TOURNAMENT_WON: {"tournament_id", "tournament_name", "placement"},
    EventType.TOURNAMENT_RUNNER_UP: {"tournament_id", "tournament_name", "placement"},
    EventType.MATCH_PLAYED: {"tournament_id", "tournament_name", "match_id", "round", "opponent"},
    EventType.MATCH_WON: {"tournament_id", "match_id", "round", "opponent", "outcome"},
    EventType.MATCH_LOST: {"tournament_id", "match_id", "round", "opponent", "outcome"},
    EventType.COINS_EARNED: {"amount", "reason", "transaction_id"},
    EventType.COINS_SPENT: {"amount", "reason", "transaction_id"},
    EventType.ACHIEVEMENT_UNLOCKED: {"achievement_id", "achievement_code", "achievement_name"},
    EventType.TEAM_CREATED: {"team_id", "team_name"},
    EventType.TEAM_JOINED: {"team_id", "team_name"},
}


def test_event_metadata_contains_required_fields() -> None:
    tournament = TournamentFactory.create()
    a = RegistrationFactory.create(tournament=tournament, user__username="ana")
    b = RegistrationFactory.create(tournament=tournament, user__username="bo")
    check_in(a)
    check_in(b)
    match = MatchFactory.create(participant1=a, participant2=b, round=3)
    decide(match, winner=a)
    ResultFactory.create(tournament=tournament, winner=a, runner_up=b)
    transaction_for(a.user, 100)
    transaction_for(a.user, -40, "purchase")
    UnlockFactory.create(user=a.user)
    TeamFactory.create(created_by=a.user)

    seen = set()
    for event in UserActivity.objects.all():
        seen.add(event.event_type)
        missing = REQUIRED_METADATA[event.event_type] - set(event.metadata)
        assert not missing, f"{event.event_type} lacks {missing}"
        if "opponent" in event.metadata:
            opponent = b.user if event.user_id == a.user_id else a.user
            assert event.metadata["opponent"] == {
                "kind": "user",
                "user_id": opponent.pk,
                "username": opponent.username,
                "display_name": opponent.username,
            }
            assert event.metadata["match_id"] == match.pk
            assert event.metadata["round"] == 3
        if "tournament_id" in event.metadata:
            assert event.metadata["tournament_id"] == tournament.pk
            assert event.metadata["tournament_name"] == tournament.name
    assert seen == set(REQUIRED_METADATA)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_event_creation_no_conflicts() -> None:
    """10 threads, each its own connection, append for one user at once: all land, exactly."""
    user = UserFactory.create()
    wallet_id = user.wallet.pk

    def earn(i: int) -> None:
        DeltaCrownTransaction.objects.create(wallet_id=wallet_id, amount=i + 1, reason="winner")

    assert run_in_threads(earn, 10) == []
    assert UserActivity.objects.filter(user=user, event_type="coins_earned").count() == 10
    assert stored_stats(user.pk)["total_earned"] == sum(range(1, 11))
    assert_stats_fold_everywhere()
