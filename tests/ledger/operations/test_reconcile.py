"""Reconcile: finds and repairs drift (I1) and missing events; set-based; exit status."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from esports.economy.models import DeltaCrownTransaction
from ledger.models import EventType, UserActivity, UserGameStats, UserProfileStats
from ledger.operations.reconcile import EXIT_DRIFT, reconcile_stats
from ledger.services.stats import recompute_stats
from tests.factories import MatchFactory, UserFactory, transaction_for

pytestmark = pytest.mark.django_db


def _decided_match() -> Any:
    match = MatchFactory.create()
    match.state, match.winner = "completed", match.participant1
    match.save()
    return match


def _reconcile(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("reconcile_user_stats", *args, stdout=out, stderr=StringIO())
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_stats_drift_detection() -> None:
    """Seed 8.2: the reconciliation command detects mismatched stats."""
    match = _decided_match()
    winner, loser = match.participant1.user, match.participant2.user
    UserProfileStats.objects.filter(user=winner).update(matches_won=F("matches_won") + 3)

    code, output = _reconcile()

    assert code == EXIT_DRIFT == 1
    assert f"DRIFT: {winner.username} (id {winner.pk})" in output
    assert "  matches_won: expected 1, current 4" in output
    assert loser.username not in output
    assert UserProfileStats.objects.get(user=winner).matches_won == 4  # no --fix: untouched


def test_stats_auto_repair() -> None:
    """Seed 8.2: reconcile_user_stats --fix corrects drifted stats, and a rerun is clean."""
    match = _decided_match()
    winner = match.participant1.user
    UserProfileStats.objects.filter(user=winner).update(matches_won=7, matches_played=0)

    code, output = _reconcile("--fix")

    assert code == EXIT_DRIFT  # drift was found (and fixed): a scheduler should hear of it
    assert "fixed 1 users" in output
    stored = UserProfileStats.objects.filter(user=winner).values(*recompute_stats(user=winner))
    assert stored.get() == recompute_stats(user=winner)
    assert (stored.get()["matches_won"], stored.get()["matches_played"]) == (1, 1)
    assert _reconcile()[0] == 0


def test_json_report_names_fields_expected_and_current() -> None:
    match = _decided_match()
    winner = match.participant1.user
    UserProfileStats.objects.filter(user=winner).update(matches_lost=2)

    code, output = _reconcile("--json", "--user", winner.username)

    report = json.loads(output)
    assert code == 1
    assert report["users_checked"] == 1
    assert report["drifted"] == [
        {
            "user_id": winner.pk,
            "username": winner.username,
            "missing_row": False,
            "fields": {"matches_lost": {"expected": 0, "current": 2}},
        }
    ]


def test_finds_and_records_missing_events_from_bulk_writes(stats_of: Any) -> None:
    user = UserFactory.create()
    transaction_for(user, 50)
    DeltaCrownTransaction.objects.bulk_create(  # no signals: the ledger never heard of these
        [
            DeltaCrownTransaction(wallet=user.wallet, amount=20, reason="adjustment"),
            DeltaCrownTransaction(wallet=user.wallet, amount=-5, reason="purchase"),
        ]
    )

    report = reconcile_stats()
    assert report.missing_events == {"economy.transaction": {"coins_earned": 1, "coins_spent": 1}}
    assert report.drifted == []  # stats are the fold of the events that exist: no drift
    assert report.exit_code == 1
    assert UserActivity.objects.filter(user=user).count() == 1

    fixed = reconcile_stats(fix=True)

    assert fixed.recorded_events == 2
    assert sorted(UserActivity.objects.filter(user=user).values_list("event_type", "amount")) == [
        (EventType.COINS_EARNED, 20),
        (EventType.COINS_EARNED, 50),
        (EventType.COINS_SPENT, 5),
    ]
    assert (stats_of(user)["total_earned"], stats_of(user)["total_spent"]) == (70, 5)
    assert reconcile_stats().exit_code == 0


def test_every_user_has_a_stats_row_afterwards() -> None:
    quiet = UserFactory.create()
    match = _decided_match()
    UserProfileStats.objects.filter(user=match.participant2.user).delete()  # lost its row

    report = reconcile_stats(fix=True)

    assert report.users_without_stats == 2
    assert report.created_stats_rows == 2
    assert [d.user_id for d in report.drifted] == [match.participant2.user.pk]
    assert report.drifted[0].missing_row
    assert UserProfileStats.objects.filter(user=quiet).exists()
    assert UserProfileStats.objects.count() == type(quiet).objects.count()
    assert UserProfileStats.objects.get(user=match.participant2.user).matches_lost == 1


def test_user_filter_limits_check_and_repair() -> None:
    match = _decided_match()
    winner, loser = match.participant1.user, match.participant2.user
    UserProfileStats.objects.filter(user_id__in=[winner.pk, loser.pk]).update(matches_played=9)

    report = reconcile_stats(user_ids=[loser.pk], fix=True)

    assert [d.user_id for d in report.drifted] == [loser.pk]
    assert UserProfileStats.objects.get(user=loser).matches_played == 1
    assert UserProfileStats.objects.get(user=winner).matches_played == 9


def test_unknown_username_is_a_usage_error() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown username"):
        call_command("reconcile_user_stats", "--user", "nobody-here")


def test_query_count_does_not_grow_with_users() -> None:
    """Set-based: one grouped query per chunk of users, never one per user."""
    for _ in range(2):
        _decided_match()
    with CaptureQueriesContext(connection) as few:
        reconcile_stats()
    for _ in range(8):
        _decided_match()
    with CaptureQueriesContext(connection) as many:
        reconcile_stats()
    assert type(_decided_match().participant1.user).objects.count() == 22
    assert len(many) == len(few)


def test_per_game_stats_drift_is_found_and_fixed() -> None:
    """Reconcile covers every projection of the registry: a per-game row edited by hand."""
    match = _decided_match()
    winner = match.participant1.user
    UserGameStats.objects.filter(user=winner, game="valorant").update(matches_won=5)
    UserGameStats.objects.create(user=winner, game="ghost", matches_played=2)

    code, output = _reconcile()

    assert code == EXIT_DRIFT
    assert f"DRIFT: game_stats ({winner.pk}, valorant)" in output
    assert "  matches_won: expected 1, current 5" in output
    assert f"DRIFT: game_stats ({winner.pk}, ghost)" in output
    assert "2 other projection rows drifted" in output

    code, output = _reconcile("--fix")

    assert "rewrote 2 other projection rows" in output
    rows = UserGameStats.objects.filter(user=winner).values_list("game", "matches_won")
    assert list(rows) == [("valorant", 1)]
    assert _reconcile()[0] == 0
