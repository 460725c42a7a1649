"""Issue 17's reads through the schema in-process, each next to the raw query it stands on (the
floor), for an ordinary player: per-game stats (the (user, game) row by key), headToHead (the
(user, opponent) row by key, then the last match's events by index) and streaks (the player's
standing decided matches on the (user, event_type, timestamp) index, counted on read)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from bench.api import direct, race, schema_variant
from bench.common import Mode, Result, raw_connection
from bench.dataset import DatasetSize, first_user_id

GAME = """query($userId: ID, $game: String) { stats(userId: $userId, game: $game) {
  tournamentsPlayed tournamentsWon matchesPlayed matchesWon matchesLost winRate
  lastActivityAt } }"""
H2H = """query($a: ID!, $b: ID!) { headToHead(userId: $a, opponentId: $b) {
  matchesPlayed won lost lastMatchAt } }"""
STREAKS = """query($userId: ID) { stats(userId: $userId) { currentWinStreak longestWinStreak } }"""

GAME_ROW = "SELECT * FROM ledger_usergamestats WHERE user_id = %s AND game = %s"
H2H_ROW = "SELECT * FROM ledger_headtohead WHERE user_id = %s AND opponent_id = %s"
DECIDED = (
    "SELECT a.event_type FROM ledger_useractivity a WHERE a.user_id = %s "
    "AND a.event_type IN ('match_won', 'match_lost') AND NOT EXISTS "
    "(SELECT 1 FROM ledger_useractivity r WHERE r.reverses_id = a.id) "
    "ORDER BY a.timestamp, a.source_id, a.id"
)
PK_SELECT = "SELECT * FROM ledger_userprofilestats WHERE user_id = %s"


def run(*, mode: Mode, size: DatasetSize) -> Result:
    result = Result("insights")
    user_id = first_user_id() + size.heavy_users + 1  # an ordinary player
    with raw_connection(prepare_threshold=None) as plain:
        game_row = plain.execute(
            "SELECT game, matches_played FROM ledger_usergamestats WHERE user_id = %s LIMIT 1",
            [user_id],
        ).fetchone()
        rival = plain.execute(
            "SELECT opponent_id, matches_played FROM ledger_headtohead WHERE user_id = %s "
            "ORDER BY matches_played DESC LIMIT 1",
            [user_id],
        ).fetchone()
        if game_row is None or rival is None:
            raise AssertionError("no per-game or head-to-head rows: rebuild the dataset (--fresh)")
        game, opponent = game_row[0], rival[0]
        decided = len(plain.execute(DECIDED, [user_id]).fetchall())
        samples = race(
            {
                "schema stats(game)": schema_variant(
                    GAME, {"userId": str(user_id), "game": game}, viewer=AnonymousUser()
                ),
                "raw (user, game) row": direct(
                    lambda: plain.execute(GAME_ROW, [user_id, game]).fetchone()
                ),
                "schema headToHead": schema_variant(
                    H2H, {"a": str(user_id), "b": str(opponent)}, viewer=AnonymousUser()
                ),
                "raw (user, opponent) row": direct(
                    lambda: plain.execute(H2H_ROW, [user_id, opponent]).fetchone()
                ),
                "schema streaks": schema_variant(
                    STREAKS, {"userId": str(user_id)}, viewer=AnonymousUser()
                ),
                "raw decided matches": direct(lambda: plain.execute(DECIDED, [user_id]).fetchall()),
                "raw PK select": direct(lambda: plain.execute(PK_SELECT, [user_id]).fetchone()),
            },
            samples=mode.latency_samples,
        )
    for name, values in samples.items():
        result.figure(name, "ms", values)
    result.ratio(
        "stats(game) ÷ (user, game) row", ours="schema stats(game)", other="raw (user, game) row"
    )
    result.ratio(
        "headToHead ÷ (user, opponent) row",
        ours="schema headToHead",
        other="raw (user, opponent) row",
    )
    result.ratio(
        "streaks ÷ raw decided matches", ours="schema streaks", other="raw decided matches"
    )
    result.ratio("streaks ÷ stats PK select", ours="schema streaks", other="raw PK select")
    result.notes.append(
        f"player {user_id}: game {game!r} ({game_row[1]} matches), {decided} decided matches, "
        f"{rival[1]} against the opponent"
    )
    return result
