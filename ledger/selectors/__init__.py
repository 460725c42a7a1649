"""The ledger's read side: one small module per read model, all paging through ``paging``.

- ``paging``: page requests, positions, and the one keyset bound (``seek``) every page uses;
- ``events``: which events a read counts (those that still stand; the coin events);
- ``feed``: a user's activity feed and single events;
- ``merged``: one feed merged from many users' feeds (a following feed);
- ``stats``: a user's lifetime stats with derived rates;
- ``periods``: stats by year, month or week, of every game or one;
- ``games``: per-game stats;
- ``rivals``: head-to-head records;
- ``rarity``: achievement rarity;
- ``form``: win streaks and recent results, on read from the player's decided matches;
- ``leaderboards``: users ranked by a counter or by win rate;
- ``jobs``: staff listings of ledger jobs.

Read models about one platform domain (tournament history, the economy summary) live with that
domain in ``esports`` and build on these. Each selector is one set-based query (or a fixed few),
so a page of one row and a page of a hundred cost the same number of round trips.

This package re-exports the public read API: callers import from ``ledger.selectors``.
"""

from ledger.selectors.events import ECONOMY_TYPES, NON_ECONOMY_TYPES, standing_events
from ledger.selectors.feed import (
    FEED_FIELDS,
    activity_event,
    activity_events,
    activity_feed_page,
    activity_feed_query,
    archive_horizon,
    is_economy_row,
    recorded_at,
    reversed_type,
)
from ledger.selectors.form import (
    RECENT_KEPT,
    PlayedMatch,
    Streaks,
    recent_results,
    streaks_by_user,
    streaks_of,
)
from ledger.selectors.games import GameStats, game_stats, games_by_user
from ledger.selectors.jobs import ledger_job, ledger_jobs_page
from ledger.selectors.leaderboards import (
    Board,
    BoardPosition,
    LeaderboardRow,
    leaderboard_page,
    leaderboard_position,
    leaderboard_query,
)
from ledger.selectors.merged import merged_feed_page
from ledger.selectors.paging import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Page,
    PageRequest,
    PageRequestError,
    Position,
    keyset_page,
    keyset_query,
    page_request,
    seek,
)
from ledger.selectors.periods import Period, PeriodStats, stats_by_period
from ledger.selectors.rarity import Rarity, achievement_rarity, player_count
from ledger.selectors.rivals import HeadToHeadRecord, head_to_head
from ledger.selectors.stats import (
    StatsRow,
    existing_user_stats,
    stats_by_user,
    user_stats,
    with_derived,
)

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "ECONOMY_TYPES",
    "FEED_FIELDS",
    "MAX_PAGE_SIZE",
    "NON_ECONOMY_TYPES",
    "RECENT_KEPT",
    "Board",
    "BoardPosition",
    "GameStats",
    "HeadToHeadRecord",
    "LeaderboardRow",
    "Page",
    "PageRequest",
    "PageRequestError",
    "Period",
    "PeriodStats",
    "PlayedMatch",
    "Position",
    "Rarity",
    "StatsRow",
    "Streaks",
    "achievement_rarity",
    "activity_event",
    "activity_events",
    "activity_feed_page",
    "activity_feed_query",
    "archive_horizon",
    "existing_user_stats",
    "game_stats",
    "games_by_user",
    "head_to_head",
    "is_economy_row",
    "keyset_page",
    "keyset_query",
    "leaderboard_page",
    "leaderboard_position",
    "leaderboard_query",
    "ledger_job",
    "ledger_jobs_page",
    "merged_feed_page",
    "page_request",
    "player_count",
    "recent_results",
    "recorded_at",
    "reversed_type",
    "seek",
    "standing_events",
    "stats_by_period",
    "stats_by_user",
    "streaks_by_user",
    "streaks_of",
    "user_stats",
    "with_derived",
]
