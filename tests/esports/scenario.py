"""Helpers the ledger and esports tests share: read the ledger back, drive platform rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model

from esports.tournaments.models import Match, Registration
from ledger.counters import GAME_COUNTER_FIELDS
from ledger.models import EventType, UserActivity, UserProfileStats
from ledger.projections import GAME_STATS, LIFETIME_STATS, PROJECTIONS
from ledger.recompute import ProjectionRows
from ledger.selectors import player_count
from ledger.services.stats import recompute_stats_for

Row = tuple[str, str]


def _label(event_type: str, reversed_type: str | None) -> str:
    return f"reversal:{reversed_type}" if event_type == EventType.REVERSAL else event_type


def feed(**filters: Any) -> list[Row]:
    """(username, event type) in the order recorded; a reversal reads ``reversal:<its target>``."""
    rows = (
        UserActivity.objects.filter(**filters)
        .order_by("id")
        .values_list("user__username", "event_type", "reverses__event_type")
    )
    return [(username, _label(kind, target)) for username, kind, target in rows]


def events(**filters: Any) -> list[Row]:
    """The same rows as ``feed``, sorted: for comparing sets of events of one action."""
    return sorted(feed(**filters))


def stored_stats(user_id: int | None) -> dict[str, Any]:
    """A user's stored stats; a user without a row reads as all zeros."""
    assert user_id is not None
    row = UserProfileStats.objects.filter(user_id=user_id).values(*LIFETIME_STATS.fields).first()
    if row is None:
        return {**{name: 0 for name in LIFETIME_STATS.fields}, "last_activity_at": None}
    return row


def stored_rows(projection: Any) -> ProjectionRows:
    """Every stored row of a projection, by key (its counters and latest timestamp)."""
    rows = projection.model._default_manager.values(*projection.key, *projection.fields)
    return {
        tuple(row[name] for name in projection.key): {name: row[name] for name in projection.fields}
        for row in rows
    }


def assert_stats_fold_everywhere() -> None:
    """I1: every user's stored stats equal the recompute from their events; so does every other
    projection's every row."""
    user_ids = list(get_user_model().objects.values_list("pk", flat=True))
    recomputed = recompute_stats_for(user_ids=user_ids)
    for user_id in user_ids:
        assert stored_stats(user_id) == recomputed[user_id], f"user {user_id} drifted"
    for projection in PROJECTIONS:
        if projection is not LIFETIME_STATS:
            assert stored_rows(projection) == projection.recompute(None), projection.name
    assert player_count() == UserProfileStats.objects.count()  # rarity's denominator


def assert_games_sum_to_lifetime() -> None:
    """Each game counter sums, over a player's games, to the lifetime counter: true of every
    history the platform's translators record (their tournament and match events name a game)."""
    user_ids = list(get_user_model().objects.values_list("pk", flat=True))
    games = stored_rows(GAME_STATS)
    for user_id in user_ids:
        lifetime = stored_stats(user_id)
        for name in GAME_COUNTER_FIELDS:
            summed = sum(row[name] for key, row in games.items() if key[0] == user_id)
            assert summed == lifetime[name], f"user {user_id}: {name} over games"


def check_in(registration: Registration, *, at: datetime | None = None) -> Registration:
    registration.checked_in = True
    registration.checked_in_at = at
    registration.save()
    return registration


def decide(
    match: Match,
    *,
    winner: Registration,
    state: str = Match.State.COMPLETED,
    at: datetime | None = None,
) -> Match:
    """Complete (or forfeit) ``match`` for ``winner``; a changed winner is a correction."""
    match.state = state
    match.winner = winner
    match.loser_id = None  # recomputed by Match.clean from the winner
    if at is not None:
        match.completed_at = at
    match.save()
    return match


def run_in_threads(work: Any, count: int) -> list[BaseException]:
    """Run ``work(i)`` in ``count`` real threads started together, each on its own connection.

    Returns the errors the threads raised (an empty list when all went well).
    """
    import threading

    from django.db import connection

    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            work(i)
        except BaseException as error:  # reported to the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    return errors
