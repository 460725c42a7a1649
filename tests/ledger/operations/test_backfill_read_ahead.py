"""Backfill outside a transaction, as the command runs it: the reader thread, the batch's share
lock and version check against live saves, deadlock retries (decision 0004)."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection, connections, transaction

from esports.teams.models import Team, TeamMembership
from esports.tournaments.models import Match, Registration, TournamentResult
from ledger.models import BackfillCheckpoint, EventType, UserActivity
from ledger.operations import backfill as backfill_module
from ledger.operations.backfill import DEADLOCK_RETRIES, backfill_activity
from ledger.recorders import recorder
from ledger.services.convergence import plan_convergence
from ledger.sources import all_sources, get_source
from tests.esports.scenario import assert_stats_fold_everywhere
from tests.ledger.operations.faults import deadlock, fail_batches, killed
from tests.ledger.operations.history import at, build_history, counters, event_rows
from tests.ledger.operations.history import history_without_events as _without_events
from tests.support.pg_locks import wait_until_blocked_on_a_lock

pytestmark = pytest.mark.django_db(transaction=True)


def history_without_events() -> Any:
    """The shared history, committed: its rows, and what live capture had recorded for them."""
    with transaction.atomic():  # history_without_events works with savepoints
        return _without_events(build_history)


def assert_converged(*names: str) -> None:
    """Every (named) source's rows have exactly the events they stand for now; stats are the
    fold of the events."""
    for source in [get_source(name) for name in names] if names else all_sources():
        assert plan_convergence(source=source, rows=list(source.rows())) == [], source.name
    assert_stats_fold_everywhere()


def connections_to_this_database() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        (count,) = cursor.fetchone()
    return int(count)


@pytest.mark.postgres
def test_reads_ahead_in_a_thread_and_equals_live(monkeypatch: pytest.MonkeyPatch) -> None:
    _, live = history_without_events()
    others = connections_to_this_database()
    readers = Counter[str]()
    real_read = backfill_module._read_batch

    def read_batch(*args: Any) -> Any:
        readers[threading.current_thread().name.split("_")[0]] += 1
        return real_read(*args)

    monkeypatch.setattr(backfill_module, "_read_batch", read_batch)

    report = backfill_activity(batch_size=3)

    assert list(readers) == ["backfill-reader"]  # every read ran in the reader thread
    assert event_rows() == live.events
    assert report.total_events == sum(live.events.values())
    assert counters() == {uid: c for uid, c in live.counters.items() if any(c.values())}
    assert_converged()
    assert connections_to_this_database() == others  # the reader closed its connection
    assert not [t for t in threading.enumerate() if t.name.startswith("backfill-reader")]


@pytest.mark.postgres
def test_the_next_sources_first_batch_is_read_while_the_last_one_before_is_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pipeline does not drain between sources: the match source's last batch is written
    only once the reader has started on the registrations (it waits for that, so without
    cross-source read-ahead the run would stall and fail)."""
    history_without_events()
    first, second = "tournaments.match", "tournaments.registration"
    last_match = Match.objects.order_by("-pk").values_list("pk", flat=True).first()
    second_started = threading.Event()
    real_read, real_write = backfill_module._read_batch, backfill_module._write

    def read_batch(source: Any, after_pk: int, size: int) -> Any:
        if source.name == second:
            second_started.set()
        return real_read(source, after_pk, size)

    def write(source: Any, batch: Any, *args: Any) -> Any:
        if source.name == first and batch.last_pk == last_match:
            assert second_started.wait(10), "the next source was not read ahead"
        return real_write(source, batch, *args)

    monkeypatch.setattr(backfill_module, "_read_batch", read_batch)
    monkeypatch.setattr(backfill_module, "_write", write)

    report = backfill_activity(sources=[first, second], batch_size=3)

    assert [source.name for source in report.sources] == [first, second]
    assert all(source.rows for source in report.sources)
    assert not BackfillCheckpoint.objects.filter(finished_at__isnull=True).exists()
    assert_converged(first, second)


@pytest.mark.postgres
def test_a_killed_read_ahead_run_resumes_to_the_live_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, live = history_without_events()
    fail_batches(monkeypatch, on={5}, error=killed)
    with pytest.raises(RuntimeError, match="killed"):
        backfill_activity(batch_size=2)
    assert BackfillCheckpoint.objects.get(finished_at__isnull=True, last_pk__gt=0).last_pk > 0
    assert 0 < UserActivity.objects.count() < sum(live.events.values())

    monkeypatch.undo()
    backfill_activity(batch_size=2)

    assert event_rows() == live.events
    assert_converged()


@pytest.mark.postgres
def test_rows_changed_or_deleted_after_they_were_read_converge_as_they_stand() -> None:
    history_without_events()
    source = get_source("tournaments.match")
    batch = backfill_module._read_batch(source, 0, 100)
    assert batch is not None
    decided = Match.objects.filter(state=Match.State.COMPLETED).order_by("pk")
    changed, deleted = decided[0], decided[1]
    # Written after the read, without signals (no live convergence): only the batch can see it.
    Match.objects.filter(pk=changed.pk).update(winner=changed.loser, loser=changed.winner)
    Match.objects.filter(pk=deleted.pk).delete()

    backfill_module._write(source, batch, None, None)

    fresh = list(source.rows().filter(pk__gt=0))
    assert plan_convergence(source=source, rows=fresh) == []  # as the rows stand now
    assert not UserActivity.objects.filter(source_model=source.name, source_id=deleted.pk)
    assert not UserActivity.objects.filter(event_type=EventType.REVERSAL).exists()


@pytest.mark.postgres
def test_the_batch_share_lock_holds_updates_until_it_commits() -> None:
    history_without_events()
    match = Match.objects.order_by("pk").first()
    assert match is not None
    outcome: dict[str, Any] = {}

    def update(lock_timeout: str) -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{lock_timeout}'")
                Match.objects.filter(pk=match.pk).update(round=9)
            outcome[lock_timeout] = "updated"
        except OperationalError as error:
            outcome[lock_timeout] = type(error.__cause__).__name__
        finally:
            connections.close_all()

    with transaction.atomic():
        _, versions = recorder().read_versioned(Match.objects.filter(pk=match.pk))
        assert recorder().changed_since_read(Match, versions) == set()
        blocked = threading.Thread(target=update, args=("200ms",))
        blocked.start()
        blocked.join()
    after = threading.Thread(target=update, args=("5s",))
    after.start()
    after.join()

    assert outcome == {"200ms": "LockNotAvailable", "5s": "updated"}


@pytest.mark.postgres
def test_a_live_save_during_a_batch_waits_and_then_corrects_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A referee corrects a match while the backfill batch holding it is being written: the save
    waits for the batch to commit, then converges on top of it, so the ledger ends right."""
    history_without_events()
    match = Match.objects.filter(state=Match.State.COMPLETED).order_by("pk").first()
    assert match is not None

    def referee_swaps_the_result() -> None:
        saved = Match.objects.get(pk=match.pk)
        saved.winner_id, saved.loser_id = saved.loser_id, saved.winner_id
        saved.save()

    errors = backfill_while_another_thread_saves(
        monkeypatch, source="tournaments.match", save=referee_swaps_the_result
    )

    assert not errors
    assert match.loser is not None
    assert match.completed_at is not None
    won = UserActivity.objects.filter(
        source_model="tournaments.match",
        source_id=match.pk,
        event_type=EventType.MATCH_WON,
        reversed_by__isnull=True,
    )
    assert {event.user_id for event in won} == set(match.loser.member_ids_at(match.completed_at))
    assert_converged("tournaments.match")


@pytest.mark.postgres
def test_a_registration_saved_during_a_results_batch_does_not_deadlock(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A registration's save records events (stats locks) and re-converges its tournament's
    result; a batch of results holds the result and wants those stats rows. The save takes the
    result before it records anything, so it waits for the batch instead of deadlocking it."""
    history_without_events()
    result = TournamentResult.objects.order_by("pk").first()
    assert result is not None
    registration = (
        Registration.objects.filter(tournament_id=result.tournament_id, checked_in=True)
        .order_by("pk")
        .first()
    )
    assert registration is not None

    def organiser_saves_the_registration() -> None:
        Registration.objects.get(pk=registration.pk).save()

    saves_during_a_batch_without_deadlock(
        monkeypatch, caplog, source="tournaments.result", save=organiser_saves_the_registration
    )
    assert_converged("tournaments.result")


@pytest.mark.postgres
def test_a_membership_saved_during_a_registrations_batch_does_not_deadlock(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A membership's save records its own events (stats locks) and re-converges its team's
    registrations; a batch of registrations holds those and wants the stats rows of every team's
    members. Ben, who played for the Alphas, joins the Bravos: the save locks the Bravos'
    registrations before it records Ben's team_joined, so it waits for the batch instead of
    holding Ben's stats row against it."""
    history_without_events()
    bravos = Team.objects.get(name="Bravos")
    ben = get_user_model().objects.get(username="ben_h")

    joined: list[TeamMembership] = []

    def ben_joins_the_bravos() -> None:
        joined.append(TeamMembership.objects.create(team=bravos, user=ben, joined_at=at(30)))

    saves_during_a_batch_without_deadlock(
        monkeypatch, caplog, source="tournaments.registration", save=ben_joins_the_bravos
    )
    assert_converged("tournaments.registration")
    [membership] = joined
    assert (
        UserActivity.objects.filter(
            source_model="teams.membership", source_id=membership.pk, user=ben
        )
        .values_list("event_type", flat=True)
        .get()
        == EventType.TEAM_JOINED
    )


def saves_during_a_batch_without_deadlock(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    *,
    source: str,
    save: Callable[[], None],
) -> None:
    """``backfill_while_another_thread_saves``, and neither side failed: PostgreSQL broke no
    deadlock (the batch logs one it is aborted by), the save raised nothing."""
    with caplog.at_level(logging.WARNING, logger="ledger.operations"):
        errors = backfill_while_another_thread_saves(monkeypatch, source=source, save=save)
    assert not errors
    assert "deadlock" not in caplog.text


def backfill_while_another_thread_saves(
    monkeypatch: pytest.MonkeyPatch, *, source: str, save: Callable[[], None]
) -> list[BaseException]:
    """Backfill ``source``; while its first batch is being written (its rows share-locked, in
    its transaction), run ``save`` in another thread until it waits on a lock or ends. The
    errors ``save`` raised are returned once both are done."""
    errors: list[BaseException] = []

    def run_save() -> None:
        try:
            save()
        except BaseException as error:  # reported by the test thread
            errors.append(error)
        finally:
            connections.close_all()

    saver = threading.Thread(target=run_save)
    real_plan = backfill_module.plan_translations

    def plan_while_saving(**kwargs: Any) -> Any:
        if kwargs["source"].name == source and not saver.is_alive():
            saver.start()
            wait_until_blocked_on_a_lock(saver)
        return real_plan(**kwargs)

    monkeypatch.setattr(backfill_module, "plan_translations", plan_while_saving)
    backfill_activity(sources=[source], batch_size=100)
    saver.join(timeout=30)
    assert not saver.is_alive(), "the save never ended"
    return errors


def test_a_deadlocked_batch_is_written_again(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _, live = history_without_events()
    fail_batches(monkeypatch, on={2, 3}, error=deadlock)  # the second batch, twice
    with caplog.at_level("WARNING", logger="ledger.operations"):
        backfill_activity(batch_size=3)

    assert event_rows() == live.events
    assert_converged()
    assert [r.getMessage().split(";")[1] for r in caplog.records] == [
        " writing the batch again (1/3)",
        " writing the batch again (2/3)",
    ]


def test_a_batch_that_keeps_deadlocking_fails_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    history_without_events()
    calls = fail_batches(monkeypatch, on=lambda n: n > 1, error=deadlock)
    with pytest.raises(OperationalError, match="deadlock"):
        backfill_activity(sources=["tournaments.match"], batch_size=3)

    assert calls["batches"] == 1 + 1 + DEADLOCK_RETRIES
    checkpoint = BackfillCheckpoint.objects.get(source="tournaments.match")
    first_batch = list(Match.objects.order_by("pk").values_list("pk", flat=True)[:3])
    assert checkpoint.last_pk == first_batch[-1]  # only the committed first batch
    assert set(UserActivity.objects.values_list("source_id", flat=True)) <= set(first_batch)


def test_other_database_errors_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    history_without_events()
    calls = fail_batches(
        monkeypatch,
        on=lambda n: True,
        error=lambda: OperationalError("server closed the connection unexpectedly"),
    )
    with pytest.raises(OperationalError, match="server closed"):
        backfill_activity(sources=["tournaments.match"], batch_size=3)
    assert calls["batches"] == 1
    assert not UserActivity.objects.exists()
