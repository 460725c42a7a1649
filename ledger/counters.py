"""The names of the ledger's counters: what a stats row counts. Plain names, no Django, so that
code outside the project's stack (the HTTP benchmark's floor) answers with the same fields."""

from __future__ import annotations

GAME_COUNTER_FIELDS: tuple[str, ...] = (
    "tournaments_registered",
    "tournaments_played",
    "tournaments_completed",
    "tournaments_won",
    "tournaments_runner_up",
    "tournaments_top4",
    "matches_played",
    "matches_won",
    "matches_lost",
)
"""The counters of tournament and match events: the ones a game splits (their events carry the
tournament's ``game`` in their metadata)."""

COUNTER_FIELDS: tuple[str, ...] = (
    *GAME_COUNTER_FIELDS,
    "total_earned",
    "total_spent",
    "achievements_count",
    "teams_created",
    "teams_joined",
    "current_teams_count",
)
"""Every counter of a player's lifetime stats (``UserProfileStats``), in column order."""
