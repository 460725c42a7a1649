"""The one write path: insert what is new, fold exactly that, announce it after commit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from esports.tournaments.models import Match, Registration
from ledger.drafts import NewEvent, RecordedEvent
from ledger.models import EventType, UserActivity
from ledger.recorders.portable import PortableRecorder
from ledger.services.recording import record_activity
from ledger.signals import activity_recorded
from tests.esports.scenario import assert_stats_fold_everywhere, stored_stats
from tests.factories import MatchFactory, RegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()
USER_LOCK = int(connection.vendor == "postgresql")
"""The statement that locks a save's users against a concurrent erasure (Recorder.hold_users)."""


def _event(user_id: int, event_type: str, source_id: int = 1, **extra: Any) -> NewEvent:
    return NewEvent(
        user_id=user_id,
        event_type=event_type,
        timestamp=extra.pop("timestamp", NOW),
        metadata=extra.pop("metadata", {}),
        source_model="tests.recording",
        source_id=source_id,
        **extra,
    )


@pytest.fixture
def heard() -> Any:
    batches: list[tuple[RecordedEvent, ...]] = []

    def listen(sender: Any, events: tuple[RecordedEvent, ...], **_: Any) -> None:
        batches.append(events)

    activity_recorded.connect(listen, weak=False, dispatch_uid="test-recording-listen")
    yield batches
    activity_recorded.disconnect(dispatch_uid="test-recording-listen")


def test_returns_exactly_the_inserted_events(
    django_capture_on_commit_callbacks: Any, heard: Any
) -> None:
    user = UserFactory.create()
    first = [_event(user.pk, EventType.MATCH_PLAYED), _event(user.pk, EventType.MATCH_WON)]
    with django_capture_on_commit_callbacks(execute=True):
        recorded = record_activity(events=first)
    assert [(e.event_type, e.user_id) for e in recorded] == [
        (EventType.MATCH_PLAYED, user.pk),
        (EventType.MATCH_WON, user.pk),
    ]
    assert {e.id for e in recorded} == set(UserActivity.objects.values_list("id", flat=True))

    # Half old, half new: only the new one is returned, counted and announced.
    with django_capture_on_commit_callbacks(execute=True):
        again = record_activity(events=[*first, _event(user.pk, EventType.MATCH_PLAYED, 2)])
    assert [(e.event_type, e.source_id) for e in again] == [(EventType.MATCH_PLAYED, 2)]
    assert stored_stats(user.pk)["matches_played"] == 2
    assert stored_stats(user.pk)["matches_won"] == 1
    assert [tuple(e.source_id for e in batch) for batch in heard] == [(1, 1), (2,)]

    # Nothing new: nothing announced.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert record_activity(events=first) == []
    assert callbacks == []


def test_empty_batch_touches_nothing(django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        assert record_activity(events=[]) == []


def test_stats_row_created_on_first_need_with_the_latest_timestamp() -> None:
    user = UserFactory.create()
    assert stored_stats(user.pk)["last_activity_at"] is None
    record_activity(events=[_event(user.pk, EventType.TEAM_CREATED, timestamp=NOW)])
    assert stored_stats(user.pk)["teams_created"] == 1
    assert stored_stats(user.pk)["last_activity_at"] == NOW
    # A historical event (backfill) does not move last_activity_at back (I7).
    record_activity(
        events=[
            _event(user.pk, EventType.TEAM_CREATED, 2, timestamp=NOW - timedelta(days=400)),
            _event(user.pk, EventType.TEAM_CREATED, 3, timestamp=NOW + timedelta(seconds=1)),
        ]
    )
    assert stored_stats(user.pk)["last_activity_at"] == NOW + timedelta(seconds=1)
    assert stored_stats(user.pk)["teams_created"] == 3
    assert_stats_fold_everywhere()


def test_a_reversal_subtracts_its_targets_deltas_and_amount() -> None:
    user = UserFactory.create()
    [earned] = record_activity(events=[_event(user.pk, EventType.COINS_EARNED, amount=250)])
    [joined] = record_activity(events=[_event(user.pk, EventType.TEAM_JOINED)])
    record_activity(
        events=[
            _event(
                user.pk,
                EventType.REVERSAL,
                amount=250,
                reverses_id=earned.id,
                reversed_type=EventType.COINS_EARNED,
            ),
            _event(
                user.pk,
                EventType.REVERSAL,
                reverses_id=joined.id,
                reversed_type=EventType.TEAM_JOINED,
            ),
        ]
    )
    stats = stored_stats(user.pk)
    assert (stats["total_earned"], stats["teams_joined"], stats["current_teams_count"]) == (0, 0, 0)
    # The same reversal again is a duplicate: an event is reversed at most once.
    again = _event(
        user.pk,
        EventType.REVERSAL,
        amount=250,
        reverses_id=earned.id,
        reversed_type=EventType.COINS_EARNED,
        source_id=99,
    )
    assert record_activity(events=[again]) == []
    assert stored_stats(user.pk)["total_earned"] == 0
    assert_stats_fold_everywhere()


def test_large_batches_are_chunked(monkeypatch: Any) -> None:
    monkeypatch.setattr(PortableRecorder, "rows_per_statement", 3)
    users = [UserFactory.create() for _ in range(3)]
    batch = [_event(u.pk, EventType.MATCH_PLAYED, source_id=i) for i in range(4) for u in users]
    assert len(record_activity(events=batch + batch[:5])) == 12
    for user in users:
        assert stored_stats(user.pk)["matches_played"] == 4
    assert_stats_fold_everywhere()


def test_a_batch_that_only_adds_is_two_statements(django_assert_num_queries: Any) -> None:
    """Insert events, then one upsert of the grouped deltas: whatever the size."""
    users = [UserFactory.create() for _ in range(5)]
    batch = [
        _event(u.pk, kind, i) for i in range(10) for u in users for kind in EventType.values[:9]
    ]
    with django_assert_num_queries(2):
        recorded = record_activity(events=batch)
    assert len(recorded) == 450
    assert all(stored_stats(u.pk)["matches_won"] == 10 for u in users)
    assert_stats_fold_everywhere()


def test_a_batch_that_subtracts_is_three_statements(django_assert_num_queries: Any) -> None:
    """A negative delta cannot go through the upsert: the database checks ``>= 0`` on the row it
    proposes to insert before it sees the conflict. So: insert events, create-and-lock the stats
    rows in user-id order, add the deltas."""
    users = [UserFactory.create() for _ in range(3)]
    won = record_activity(events=[_event(u.pk, EventType.MATCH_WON, 7) for u in users])
    reversals = [
        _event(
            event.user_id,
            EventType.REVERSAL,
            7,
            reverses_id=event.id,
            reversed_type=EventType.MATCH_WON,
        )
        for event in won
    ]
    with django_assert_num_queries(3):
        assert len(record_activity(events=reversals)) == 3
    assert all(stored_stats(u.pk)["matches_won"] == 0 for u in users)
    assert_stats_fold_everywhere()


def test_solo_match_save_query_count(django_assert_num_queries: Any) -> None:
    """Pinned so a regression in the live path shows: 1 read of both sides (players, profiles,
    tournament), the UPDATE, the ledger's read of what is recorded, (on PostgreSQL) the KEY SHARE
    lock of the players that orders the save against an erasure, the erasure check, the event
    INSERT, the stats upsert and the per-game stats upsert."""
    created = MatchFactory.create()
    match = Match.objects.get(pk=created.pk)  # as a view would load it: nothing cached
    match.state, match.winner_id = Match.State.COMPLETED, match.participant1_id
    with django_assert_num_queries(7 + USER_LOCK):
        match.save()
    assert UserActivity.objects.filter(source_model="tournaments.match").count() == 4

    # Saved again unchanged (sides now cached): the UPDATE and the ledger read; nothing to
    # record, so no lock and no erasure check.
    with django_assert_num_queries(2):
        match.save()


def test_check_in_save_query_count(django_assert_num_queries: Any) -> None:
    """Pinned: the UPDATE, the look for a result to re-converge (locked before anything is
    recorded), the tournament (metadata), the ledger read, the user lock (PostgreSQL), the
    erasure check, the event INSERT, the stats upsert and the per-game stats upsert."""
    created = RegistrationFactory.create()
    registration = Registration.objects.get(pk=created.pk)
    registration.checked_in = True
    with django_assert_num_queries(8 + USER_LOCK):
        registration.save()
    assert UserActivity.objects.filter(event_type=EventType.TOURNAMENT_JOINED).count() == 1
