"""Corrections append (I8): a changed source row is converged with reversals, never edits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from esports.tournaments.models import Match, Registration
from ledger.models import EventType, UserActivity
from ledger.services.convergence import converge_rows, plan_convergence
from ledger.sources import get_source
from tests.esports.scenario import (
    assert_stats_fold_everywhere,
    check_in,
    decide,
    feed,
    stored_stats,
)
from tests.factories import (
    MatchFactory,
    MembershipFactory,
    RegistrationFactory,
    ResultFactory,
    transaction_for,
)

pytestmark = pytest.mark.django_db

PLAYED, WON, LOST = EventType.MATCH_PLAYED, EventType.MATCH_WON, EventType.MATCH_LOST


@pytest.fixture
def match() -> Match:
    return MatchFactory.create(
        participant1__user__username="ana", participant2__user__username="bo"
    )


def _batches(rows: list[tuple[str, str]], *sizes: int) -> list[list[tuple[str, str]]]:
    """The feed cut into consecutive batches, each sorted: order within a batch is not a promise."""
    cut, start = [], 0
    for size in sizes:
        cut.append(sorted(rows[start : start + size]))
        start += size
    assert start == len(rows), f"{len(rows) - start} rows beyond the expected batches"
    return cut


def _match_stats(username: str, match: Match) -> tuple[int, int, int]:
    reg = match.participant1 if match.participant1.user.username == username else match.participant2
    stats = stored_stats(reg.user_id)
    return stats["matches_played"], stats["matches_won"], stats["matches_lost"]


def test_changed_winner_appends_reversals_then_the_new_outcome(match: Match) -> None:
    decide(match, winner=match.participant1)
    decide(match, winner=match.participant2)

    assert _batches(feed(source_model="tournaments.match"), 4, 2, 2) == [
        [("ana", PLAYED), ("ana", WON), ("bo", LOST), ("bo", PLAYED)],
        [("ana", "reversal:match_won"), ("bo", "reversal:match_lost")],  # reversals first
        [("ana", LOST), ("bo", WON)],
    ]
    assert _match_stats("ana", match) == (1, 0, 1)
    assert _match_stats("bo", match) == (1, 1, 0)
    # match_played stands through the correction, so it carries no outcome that could go stale.
    played = UserActivity.objects.filter(event_type=PLAYED).values_list("metadata", flat=True)
    assert all("outcome" not in metadata for metadata in played)
    outcomes = UserActivity.objects.filter(event_type__in=[WON, LOST]).values_list(
        "user__username", "event_type", "metadata__outcome"
    )
    assert sorted(outcomes) == [
        ("ana", LOST, "lost"),
        ("ana", WON, "won"),
        ("bo", LOST, "lost"),
        ("bo", WON, "won"),
    ]
    assert_stats_fold_everywhere()


def test_winner_corrected_twice_ends_right(match: Match) -> None:
    """A, then B, then A: stats as if A were the only result; the feed holds the whole story."""
    for winner in (match.participant1, match.participant2, match.participant1):
        decide(match, winner=winner)

    assert _batches(feed(source_model="tournaments.match"), 4, 2, 2, 2, 2) == [
        [("ana", PLAYED), ("ana", WON), ("bo", LOST), ("bo", PLAYED)],
        [("ana", "reversal:match_won"), ("bo", "reversal:match_lost")],
        [("ana", LOST), ("bo", WON)],
        [("ana", "reversal:match_lost"), ("bo", "reversal:match_won")],
        [("ana", WON), ("bo", LOST)],
    ]
    # The outcome recurs under the next occurrence: the unique key lets it happen again.
    occurrences = sorted(
        UserActivity.objects.filter(
            source_model="tournaments.match", user__username="ana", event_type=WON
        ).values_list("occurrence", flat=True)
    )
    assert occurrences == [0, 1]
    assert _match_stats("ana", match) == (1, 1, 0)
    assert _match_stats("bo", match) == (1, 0, 1)
    assert_stats_fold_everywhere()
    # Converged: nothing more to do.
    assert plan_convergence(source=get_source("tournaments.match"), rows=[match]) == []


def test_reversal_rows_point_at_and_describe_what_they_cancel(match: Match) -> None:
    decide(match, winner=match.participant1)
    won = UserActivity.objects.get(event_type=WON)
    decide(match, winner=match.participant2)

    reversal = UserActivity.objects.get(reverses=won)
    assert reversal.event_type == EventType.REVERSAL
    assert reversal.user_id == won.user_id
    assert (reversal.source_model, reversal.source_id) == (won.source_model, won.source_id)
    assert reversal.metadata["reverses"] == {
        "id": won.pk,
        "event_type": WON,
        "timestamp": won.timestamp.isoformat(),
    }
    assert reversal.metadata["match_id"] == match.pk  # still readable without joins
    # The original is untouched (I4): corrections never edit history.
    assert UserActivity.objects.get(pk=won.pk).metadata == won.metadata


def test_disputed_leaves_events_then_a_changed_resolution_reverses(match: Match) -> None:
    decide(match, winner=match.participant1)
    before = feed()

    match.state = Match.State.DISPUTED
    match.save()
    assert feed() == before  # recorded events stand while disputed

    decide(match, winner=match.participant1)  # upheld
    assert feed() == before

    match.state = Match.State.DISPUTED
    match.save()
    decide(match, winner=match.participant2)  # overturned
    assert _batches(feed()[len(before) :], 2, 2) == [
        [("ana", "reversal:match_won"), ("bo", "reversal:match_lost")],
        [("ana", LOST), ("bo", WON)],
    ]
    assert_stats_fold_everywhere()


def test_match_reset_to_scheduled_reverses_everything(match: Match) -> None:
    decide(match, winner=match.participant1, state=Match.State.FORFEIT)
    match.state = Match.State.SCHEDULED
    match.winner = match.loser = None
    match.completed_at = None
    match.save()
    assert sorted(feed()[-2:]) == [
        ("ana", "reversal:match_played"),
        ("bo", "reversal:match_played"),
    ]
    assert _match_stats("ana", match) == (0, 0, 0)
    assert_stats_fold_everywhere()


def test_forfeit_then_completed_adds_the_outcome_only(match: Match) -> None:
    decide(match, winner=match.participant1, state=Match.State.FORFEIT)
    assert feed(source_model="tournaments.match") == [("ana", PLAYED), ("bo", PLAYED)]
    decide(match, winner=match.participant1)
    assert feed(source_model="tournaments.match")[2:] == [("ana", WON), ("bo", LOST)]
    assert_stats_fold_everywhere()


def test_no_show_after_check_in_reverses_tournament_joined() -> None:
    registration = RegistrationFactory.create(user__username="ana")
    check_in(registration)
    registration.status = Registration.Status.NO_SHOW
    registration.save()

    assert feed() == [
        ("ana", EventType.TOURNAMENT_REGISTERED),
        ("ana", EventType.TOURNAMENT_JOINED),
        ("ana", "reversal:tournament_joined"),
    ]
    stats = stored_stats(registration.user_id)
    assert (stats["tournaments_registered"], stats["tournaments_played"]) == (1, 0)
    assert_stats_fold_everywhere()


def test_membership_that_ends_records_team_left() -> None:
    joined = timezone.now() - timedelta(days=10)
    membership = MembershipFactory.create(user__username="ana", joined_at=joined)
    ana = membership.user
    assert stored_stats(ana.pk)["current_teams_count"] == 1

    membership.left_at = joined + timedelta(days=3)
    membership.save()
    left = UserActivity.objects.get(user=ana, event_type=EventType.TEAM_LEFT)
    assert left.timestamp == membership.left_at
    stats = stored_stats(ana.pk)
    assert (stats["teams_joined"], stats["current_teams_count"]) == (1, 0)
    membership.save()  # saved again: nothing more
    assert UserActivity.objects.filter(user=ana).count() == 2
    assert_stats_fold_everywhere()


def test_changed_amount_reverses_the_old_amount() -> None:
    """A transaction corrected from 500 to 300 earns 300, not 500 (the key alone is not enough)."""
    coins = transaction_for(RegistrationFactory.create().user, 500)
    user_id = coins.wallet.user_id
    coins.amount = 300
    coins.save()
    assert list(
        UserActivity.objects.filter(user_id=user_id, source_model="economy.transaction")
        .order_by("id")
        .values_list("event_type", "amount", "occurrence")
    ) == [("coins_earned", 500, 0), ("reversal", 500, 0), ("coins_earned", 300, 1)]
    assert stored_stats(user_id)["total_earned"] == 300

    coins.amount = -300  # now a spend: the earn is reversed, a spend appended
    coins.save()
    stats = stored_stats(user_id)
    assert (stats["total_earned"], stats["total_spent"]) == (0, 300)
    assert_stats_fold_everywhere()


def test_dry_run_plans_without_writing(match: Match) -> None:
    Match.objects.filter(pk=match.pk).update(
        state=Match.State.COMPLETED,
        winner=match.participant1,
        loser=match.participant2,
        completed_at=timezone.now(),
    )  # a bulk write the signal never saw
    match.refresh_from_db()
    result = converge_rows(source=get_source("tournaments.match"), rows=[match], dry_run=True)
    assert sorted(e.event_type for e in result.planned) == [LOST, PLAYED, PLAYED, WON]
    assert result.recorded == []
    assert UserActivity.objects.filter(source_model="tournaments.match").count() == 0

    result = converge_rows(source=get_source("tournaments.match"), rows=[match])
    assert len(result.recorded) == 4
    assert_stats_fold_everywhere()


def test_corrected_result_swaps_placements() -> None:
    first = check_in(RegistrationFactory.create(user__username="ana"))
    second = check_in(RegistrationFactory.create(user__username="bo", tournament=first.tournament))
    result = ResultFactory.create(winner=first, runner_up=second)
    result.winner, result.runner_up = second, first
    result.save()

    assert _batches(feed(source_model="tournaments.result"), 4, 2, 2) == [
        [
            ("ana", EventType.TOURNAMENT_COMPLETED),
            ("ana", EventType.TOURNAMENT_WON),
            ("bo", EventType.TOURNAMENT_COMPLETED),
            ("bo", EventType.TOURNAMENT_RUNNER_UP),
        ],
        [("ana", "reversal:tournament_won"), ("bo", "reversal:tournament_runner_up")],
        [("ana", EventType.TOURNAMENT_RUNNER_UP), ("bo", EventType.TOURNAMENT_WON)],
    ]
    assert stored_stats(second.user_id)["tournaments_won"] == 1
    assert stored_stats(first.user_id)["tournaments_won"] == 0
    assert stored_stats(first.user_id)["tournaments_completed"] == 1  # completed stands
    assert_stats_fold_everywhere()
