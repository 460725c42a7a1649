"""4. The ``stats`` lookup through the schema in-process and over HTTP, next to the
primary-key SELECT of the stats row (the floor). Anonymous viewer: stats are public."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from bench.api import HttpClient, direct, race, schema_variant, uvicorn_server
from bench.common import Mode, Result, raw_connection
from bench.dataset import DatasetSize, first_user_id

STATS = """query Stats($userId: ID) {
  stats(userId: $userId) {
    tournamentsRegistered tournamentsPlayed tournamentsCompleted tournamentsWon
    tournamentsRunnerUp tournamentsTop4 matchesPlayed matchesWon matchesLost totalEarned
    totalSpent achievementsCount teamsCreated teamsJoined currentTeamsCount winRate
    tournamentWinRate netEarnings lastActivityAt
  }
}"""
PK_SELECT = "SELECT * FROM ledger_userprofilestats WHERE user_id = %s"


def run(*, mode: Mode, size: DatasetSize) -> Result:
    result = Result("stats")
    user_id = first_user_id() + size.heavy_users + 1  # an ordinary player
    variables = {"userId": str(user_id)}
    with (
        uvicorn_server() as port,
        uvicorn_server(DATABASE_POOL="1") as pooled_port,
        raw_connection(prepare_threshold=None) as plain,
        raw_connection(prepare_threshold=5) as prepared,
    ):
        client = HttpClient(port)
        pooled = HttpClient(pooled_port)
        expected = plain.execute(PK_SELECT, [user_id]).fetchone()
        served = client.post(STATS, variables)["stats"]
        if expected is None or served["matchesPlayed"] != _column(plain, "matches_played", user_id):
            raise AssertionError("the schema's stats differ from the stats row")
        samples = race(
            {
                "schema stats": schema_variant(STATS, variables, viewer=AnonymousUser()),
                "HTTP stats": direct(lambda: client.post(STATS, variables)),
                "HTTP stats, pool": direct(lambda: pooled.post(STATS, variables)),
                "raw PK select": direct(lambda: plain.execute(PK_SELECT, [user_id]).fetchone()),
                "raw PK select, prepared": direct(
                    lambda: prepared.execute(PK_SELECT, [user_id]).fetchone()
                ),
            },
            samples=mode.latency_samples,
        )
        client.close()
        pooled.close()
    for name, values in samples.items():
        result.figure(name, "ms", values)
    result.floor("raw PK select (floor)", ("raw PK select", "raw PK select, prepared"))
    result.ratio(
        "schema stats ÷ PK select",
        ours="schema stats",
        other="raw PK select (floor)",
        at_most=5,
    )
    result.ratio("HTTP stats ÷ PK select", ours="HTTP stats", other="raw PK select (floor)")
    result.ratio(
        "HTTP, pool stats ÷ PK select", ours="HTTP stats, pool", other="raw PK select (floor)"
    )
    result.notes.append("HTTP 'pool': a uvicorn worker with DATABASE_POOL=1")
    return result


def _column(conn: object, name: str, user_id: int) -> int:
    row = conn.execute(  # type: ignore[attr-defined]
        f"SELECT {name} FROM ledger_userprofilestats WHERE user_id = %s", [user_id]
    ).fetchone()
    return int(row[0])
