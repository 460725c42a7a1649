"""Stats, periods, economy and leaderboard types."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry


@strawberry.type(description="A player's lifetime stats: the fold of their events (public).")
class UserStats:
    tournaments_registered: int
    tournaments_played: int
    tournaments_completed: int
    tournaments_won: int
    tournaments_runner_up: int
    tournaments_top4: int
    matches_played: int
    matches_won: int
    matches_lost: int
    total_earned: int
    total_spent: int
    achievements_count: int
    teams_created: int
    teams_joined: int
    current_teams_count: int
    win_rate: float = strawberry.field(description="matchesWon / matchesPlayed, 0 to 1.")
    tournament_win_rate: float = strawberry.field(
        description="tournamentsWon / tournamentsPlayed, 0 to 1."
    )
    net_earnings: int
    last_activity_at: datetime | None

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> UserStats:
        names = cls.__annotations__
        return cls(**{name: values[name] for name in names if name in values})


@strawberry.type(
    description="A player's stats in one game: the game's tournament and match counters."
)
class GameStats:
    game: str
    stats: UserStats = strawberry.field(
        description="Coins, achievements and teams are not per game: they read 0 here."
    )


@strawberry.enum
class StatsPeriod(Enum):
    YEAR = "year"
    MONTH = "month"
    WEEK = "week"


@strawberry.type(description="The counters of one year, month or week, from the events that stand.")
class PeriodCounters:
    period_start: datetime
    tournaments_registered: int
    tournaments_played: int
    tournaments_completed: int
    tournaments_won: int
    tournaments_runner_up: int
    tournaments_top4: int
    matches_played: int
    matches_won: int
    matches_lost: int
    total_earned: int
    total_spent: int
    achievements_count: int
    teams_created: int
    teams_joined: int
    current_teams_count: int = strawberry.field(
        description="Memberships started minus ended within the period."
    )


@strawberry.type
class ReasonTotals:
    reason: str
    earned: int
    spent: int


@strawberry.type(
    name="EconomySummary", description="Coins earned and spent (owner and staff only)."
)
class EconomySummaryType:
    earned: int
    spent: int
    net: int
    by_reason: list[ReasonTotals]


@strawberry.enum
class LeaderboardBy(Enum):
    TOURNAMENTS_WON = "tournaments_won"
    MATCHES_WON = "matches_won"
    WIN_RATE = "win_rate"
    TOTAL_EARNED = "total_earned"
