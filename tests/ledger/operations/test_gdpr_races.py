"""An erasure and a save of the same user at the same moment, on PostgreSQL with real threads:
whichever goes first, the erased user ends with no events and no stats row, and the other
player's events are recorded (Recorder.hold_users against anonymize_user's row lock)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections, transaction

from esports.tournaments.models import Match
from ledger.models import UserActivity, UserProfileStats
from ledger.operations.gdpr import anonymize_user
from ledger.services import convergence
from tests.factories import MatchFactory, RegistrationFactory, UserFactory
from tests.support.pg_locks import wait_until_blocked_on_a_lock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT = 30.0


class Worker(threading.Thread):
    """Runs ``work`` on a connection of its own; keeps what it raised for the test to see."""

    def __init__(self, name: str, work: Callable[[], object]) -> None:
        super().__init__(name=name, daemon=True)
        self.work = work
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.work()
        except BaseException as error:  # reported by the test thread
            self.error = error
        finally:
            connections.close_all()

    def finish(self) -> None:
        self.join(WAIT)
        assert not self.is_alive(), f"{self.name} never finished"
        assert self.error is None, self.error


def players_and_a_match() -> tuple[Any, Any, Match]:
    erin = UserFactory.create(username="erin_race")
    rival = UserFactory.create(username="rival_race")
    match = MatchFactory.create(
        participant1=RegistrationFactory.create(user=erin),
        participant2__user=rival,
    )
    return erin, rival, match


def decide(match_id: int) -> None:
    match = Match.objects.get(pk=match_id)
    match.state, match.winner_id = Match.State.COMPLETED, match.participant1_id
    match.save()


def assert_erased_and_rival_recorded(erin: Any, rival: Any, match: Match) -> None:
    assert not UserActivity.objects.filter(user=erin).exists()
    assert not UserProfileStats.objects.filter(user=erin).exists()
    rival_events = UserActivity.objects.filter(user=rival, source_id=match.pk)
    assert {event.event_type for event in rival_events} == {"match_played", "match_lost"}


def test_a_save_that_checked_before_the_erasure_is_caught_by_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The save has checked for erased users (not yet) and is about to record; the erasure
    waits for it to commit, then re-points its events and deletes the stats row it made."""
    erin, rival, match = players_and_a_match()
    checked, go_on = threading.Event(), threading.Event()
    real_check = convergence._erased_user_ids

    def check_then_pause(user_ids: Any) -> set[int]:
        erased = real_check(user_ids)
        if threading.current_thread().name == "save":
            checked.set()
            assert go_on.wait(WAIT)
        return erased

    monkeypatch.setattr(convergence, "_erased_user_ids", check_then_pause)
    save = Worker("save", lambda: decide(match.pk))
    save.start()
    assert checked.wait(WAIT)
    erasure = Worker("erasure", lambda: anonymize_user(user=erin))
    erasure.start()
    wait_until_blocked_on_a_lock(erasure)
    go_on.set()
    save.finish()
    erasure.finish()

    assert_erased_and_rival_recorded(erin, rival, match)


def test_a_save_that_starts_during_the_erasure_waits_and_records_nothing_for_the_user() -> None:
    """The erasure has re-pointed the user's events but not committed; the save waits for it,
    then finds the user erased and records the rival's side only."""
    erin, rival, match = players_and_a_match()
    erased, commit = threading.Event(), threading.Event()

    def erase_and_hold() -> None:
        with transaction.atomic():
            anonymize_user(user=erin)
            erased.set()
            assert commit.wait(WAIT)

    erasure = Worker("erasure", erase_and_hold)
    erasure.start()
    assert erased.wait(WAIT)
    save = Worker("save", lambda: decide(match.pk))
    save.start()
    wait_until_blocked_on_a_lock(save)
    commit.set()
    erasure.finish()
    save.finish()

    assert_erased_and_rival_recorded(erin, rival, match)
