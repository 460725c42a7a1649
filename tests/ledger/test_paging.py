"""The one keyset bound every page uses: exactly the rows after a position, in any order."""

from __future__ import annotations

import pytest

from ledger.models import UserProfileStats
from ledger.selectors import seek
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

COLUMNS = ("matches_won", "matches_played", "user_id")


@pytest.mark.parametrize(
    "order",
    [
        ("-matches_won", "matches_played", "-user_id"),  # a leaderboard: mixed directions
        ("matches_won", "-matches_played", "user_id"),
        ("-matches_won", "-user_id"),  # a feed: (key, id), newest first
        ("matches_won", "user_id"),  # and backwards
    ],
)
def test_seek_selects_exactly_the_rows_after_each_position(order: tuple[str, ...]) -> None:
    won_played = [(2, 5), (2, 3), (2, 3), (1, 9), (0, 0), (2, 5), (1, 9)]
    for user, (won, played) in zip(
        UserFactory.create_batch(len(won_played)), won_played, strict=True
    ):
        UserProfileStats.objects.create(user=user, matches_won=won, matches_played=played)
    names = [name.removeprefix("-") for name in order]
    rows = list(UserProfileStats.objects.values_list(*names))

    def sort_key(row: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(-v if name.startswith("-") else v for name, v in zip(order, row, strict=True))

    ordered = sorted(rows, key=sort_key)
    for i, position in enumerate(ordered):
        after = UserProfileStats.objects.filter(seek(order, position)).order_by(*order)
        assert list(after.values_list(*names)) == ordered[i + 1 :]
