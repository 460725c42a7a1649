"""Stats, periods, economy and leaderboard types."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from graphql_api.stats.loaders import StreaksByPlayer
from graphql_api.tournaments.nodes import MatchNode


@strawberry.type
class Counters:
    """The ledger's counters (``ledger.models.stats.COUNTER_FIELDS``), as every stats type
    shows them; not a type of the schema by itself."""

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


@strawberry.type(description="A player's lifetime stats: the fold of their events (public).")
class UserStats(Counters):
    win_rate: float = strawberry.field(description="matchesWon / matchesPlayed, 0 to 1.")
    tournament_win_rate: float = strawberry.field(
        description="tournamentsWon / tournamentsPlayed, 0 to 1."
    )
    net_earnings: int
    last_activity_at: datetime | None
    player: strawberry.Private[tuple[int, str | None]]
    """Whose stats these are, and of which game (None: every game): what the streaks read."""

    @strawberry.field(
        description="Matches won in a row up to the latest decided match, in match order (a "
        "forfeit neither extends nor breaks it; a corrected result counts as corrected)."
    )
    async def current_win_streak(self, info: Info) -> int:
        streaks = await StreaksByPlayer.of(info).load(self.player)
        assert streaks is not None, "every player reads streaks (0 without matches)"
        return streaks.current

    @strawberry.field(description="The most matches ever won in a row, by the same rules.")
    async def longest_win_streak(self, info: Info) -> int:
        streaks = await StreaksByPlayer.of(info).load(self.player)
        assert streaks is not None, "every player reads streaks (0 without matches)"
        return streaks.longest

    @classmethod
    def from_values(
        cls, values: dict[str, Any], *, user_id: int, game: str | None = None
    ) -> UserStats:
        names = [field.name for field in dataclasses.fields(cls)]
        fields = {name: values[name] for name in names if name in values}
        return cls(**fields, player=(user_id, game))


@strawberry.type(
    description="A player's stats in one game: the game's tournament and match counters."
)
class GameStats:
    game: str
    stats: UserStats = strawberry.field(
        description="Coins, achievements and teams are not per game: they read 0 here."
    )


@strawberry.enum(description="How a match ended for the player.")
class MatchOutcome(Enum):
    WON = "won"
    LOST = "lost"
    FORFEIT = "forfeit"


@strawberry.type(
    description="A match a player played to a result: won, lost, or a forfeit (which counts "
    "in no streak)."
)
class RecentResult:
    outcome: MatchOutcome
    played_at: datetime = strawberry.field(description="When the match was played.")
    game: str | None
    match: MatchNode | None = strawberry.field(
        description="The match as the platform has it now (None if it is gone)."
    )


@strawberry.type(
    name="HeadToHead",
    description="A player's record against another, over every match where they stood on "
    "opposite sides (solo, or as members of the two teams). Symmetric: the opponent's record "
    "swaps won and lost.",
)
class HeadToHeadType:
    matches_played: int
    won: int
    lost: int
    last_match_at: datetime | None = strawberry.field(description="When they last met.")
    last_match: MatchNode | None = strawberry.field(description="The last match they played.")


@strawberry.enum
class StatsPeriod(Enum):
    YEAR = "year"
    MONTH = "month"
    WEEK = "week"


@strawberry.type(description="The counters of one year, month or week, from the events that stand.")
class PeriodCounters(Counters):
    period_start: datetime
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
