"""Streaks by player (and game): one query per batch of players of the same game."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from graphql_api.nodes.loaders import ContextLoader
from ledger.selectors import Streaks, streaks_by_user

Player = tuple[int, str | None]
"""A user id, and a game (None: every game)."""


class StreaksByPlayer(ContextLoader[Player, Streaks]):
    @classmethod
    def fetch(cls, keys: list[Player]) -> Mapping[Player, Streaks]:
        by_game: dict[str | None, list[int]] = defaultdict(list)
        for user_id, game in keys:
            by_game[game].append(user_id)
        found: dict[Player, Streaks] = {}
        for game, user_ids in by_game.items():
            for user_id, streaks in streaks_by_user(user_ids=user_ids, game=game).items():
                found[(user_id, game)] = streaks
        return found
