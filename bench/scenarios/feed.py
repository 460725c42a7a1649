"""3. activityFeed, first page and a deep page of a heavy user: through the schema in-process
and over HTTP, next to the raw keyset query (prepared and not) and the peer's actor stream.
And a typed page: 50 match events with ``match { round tournament { name } }`` and the opponent,
next to the flat page of the same 50 events, in the same race.

The viewer is the heavy user (bearer token), so the page holds every kind of event; the typed
page's viewer is a player with that many matches (made here once, by the platform's own saves).
"""

from __future__ import annotations

import time
from typing import Any

from bench.api import HttpClient, direct, in_thread, race, schema_variant, uvicorn_server
from bench.common import Mode, Result, raw_connection
from bench.dataset import DatasetSize, first_user_id

FEED = """query Feed($userId: ID, $first: Int, $after: String) {
  activityFeed(userId: $userId, first: $first, after: $after) {
    edges { cursor node { id eventType timestamp metadata sourceModel sourceId amount
      correctsId correctsEventType } }
    pageInfo { hasNextPage endCursor }
  }
}"""

COLUMNS = (
    "id, user_id, event_type, timestamp, metadata, source_model, source_id, amount, reverses_id"
)
FIRST = (
    f"SELECT {COLUMNS} FROM ledger_useractivity WHERE user_id = %s "
    "ORDER BY timestamp DESC, id DESC LIMIT %s"
)
TYPED = """query TypedFeed($userId: ID, $first: Int, $after: String) {
  activityFeed(userId: $userId, first: $first, after: $after) {
    edges { cursor node { id eventType timestamp
      ... on MatchEvent { match { round tournament { name } }
        opponent { __typename ... on User { username } ... on Team { name } } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
TYPED_PLAYERS = 3
TYPED_CUPS = 8
"""Three players each meet the other two twice per cup: 8 cups give each 64 match events, the
newest of their events (every cup's registrations are saved before any match)."""

DEEP = (
    f"SELECT {COLUMNS} FROM ledger_useractivity WHERE user_id = %s AND timestamp <= %s "
    "AND (timestamp, id) < (%s, %s) ORDER BY timestamp DESC, id DESC LIMIT %s"
)


def run(*, mode: Mode, size: DatasetSize) -> Result:
    from actstream.models import actor_stream
    from django.contrib.auth import get_user_model

    from graphql_api.auth.tokens import issue_api_token
    from graphql_api.pagination import encode_cursor
    from ledger.models import UserActivity

    result = Result("feed")
    heavy = get_user_model().objects.get(pk=first_user_id())
    n = size.page_size
    offset = (size.deep_page - 1) * n
    at, last_id = (
        UserActivity.objects.filter(user=heavy)
        .order_by("-timestamp", "-id")
        .values_list("timestamp", "id")[offset - 1]
    )
    cursor = encode_cursor("feed", at, last_id)
    first_vars = {"userId": str(heavy.pk), "first": n}
    deep_vars = {**first_vars, "after": cursor}
    _, token = issue_api_token(user=heavy, name="bench feed")
    player = _match_player(size)
    typed_vars = {"userId": str(player.pk), "first": n}

    def peer(start: int) -> Any:
        def page() -> None:
            rows = list(actor_stream(heavy)[start : start + n])
            shown = [(a.verb, a.timestamp, a.actor_object_id) for a in rows]
            assert len(shown) == n

        return page

    with (
        uvicorn_server() as port,
        uvicorn_server(DATABASE_POOL="1") as pooled_port,
        raw_connection(prepare_threshold=None) as plain,
        raw_connection(prepare_threshold=5) as prepared,
        raw_connection(prepare_threshold=0, generic_plans=True) as generic,
    ):
        client = HttpClient(port, token=token)
        pooled = HttpClient(pooled_port, token=token)

        def raw(conn: Any, deep: bool) -> Any:
            if deep:
                return lambda: conn.execute(DEEP, [heavy.pk, at, at, last_id, n + 1]).fetchall()
            return lambda: conn.execute(FIRST, [heavy.pk, n + 1]).fetchall()

        django_sql, django_params = _selector_sql(heavy.pk, at, last_id, n)
        _check_same_rows(client, raw(plain, True)(), deep_vars)
        _check_typed_page(player, typed_vars, n)
        samples = race(
            {
                "schema first page": schema_variant(FEED, first_vars, viewer=heavy),
                "schema deep page": schema_variant(FEED, deep_vars, viewer=heavy),
                "schema typed page": schema_variant(TYPED, typed_vars, viewer=player),
                "schema flat page, same events": schema_variant(FEED, typed_vars, viewer=player),
                "schema typed page, process CPU": _cpu(TYPED, typed_vars, viewer=player),
                "schema flat page, same events, process CPU": _cpu(FEED, typed_vars, viewer=player),
                "HTTP first page": direct(lambda: client.post(FEED, first_vars)),
                "HTTP deep page": direct(lambda: client.post(FEED, deep_vars)),
                "HTTP first page, pool": direct(lambda: pooled.post(FEED, first_vars)),
                "HTTP deep page, pool": direct(lambda: pooled.post(FEED, deep_vars)),
                "raw keyset first page": direct(raw(plain, False)),
                "raw keyset deep page": direct(raw(plain, True)),
                "raw keyset first page, prepared": direct(raw(prepared, False)),
                "raw keyset deep page, prepared": direct(raw(prepared, True)),
                "raw keyset first page, generic plan": direct(raw(generic, False)),
                "raw keyset deep page, generic plan": direct(raw(generic, True)),
                "selector's deep-page SQL, unprepared": direct(
                    lambda: plain.execute(django_sql, django_params).fetchall()
                ),
                "selector's deep-page SQL, generic plan": direct(
                    lambda: generic.execute(django_sql, django_params).fetchall()
                ),
                "peer first page": in_thread(peer(0)),
                "peer deep page": in_thread(peer(offset)),
            },
            samples=mode.latency_samples,
        )
        client.close()
        pooled.close()
    for name, values in samples.items():
        result.figure(name, "ms", values)
    for page in ("first", "deep"):
        result.floor(
            f"raw keyset {page} page (floor)",
            (f"raw keyset {page} page", f"raw keyset {page} page, prepared"),
        )
        result.ratio(
            f"schema {page} page ÷ raw keyset",
            ours=f"schema {page} page",
            other=f"raw keyset {page} page (floor)",
            at_most=5,
        )
        result.ratio(
            f"schema {page} page p99 ÷ raw keyset p99",
            ours=f"schema {page} page",
            other=f"raw keyset {page} page (floor)",
            key="p99",
        )
        for server in ("", ", pool"):
            result.ratio(
                f"HTTP{server} {page} page ÷ raw keyset",
                ours=f"HTTP {page} page{server}",
                other=f"raw keyset {page} page (floor)",
            )
    result.ratio(
        "typed page ÷ flat page (same 50 events)",
        ours="schema typed page",
        other="schema flat page, same events",
        at_most=1.5,
    )
    result.ratio(
        "typed page ÷ flat page, process CPU",
        ours="schema typed page, process CPU",
        other="schema flat page, same events, process CPU",
    )
    result.ratio(
        "schema deep ÷ schema first",
        ours="schema deep page",
        other="schema first page",
        at_most=1.2,
    )
    result.ratio(
        "HTTP deep ÷ HTTP first",
        ours="HTTP deep page",
        other="HTTP first page",
        at_most=1.2,
    )
    result.ratio(
        "peer deep ÷ schema deep (speed-up)",
        ours="peer deep page",
        other="schema deep page",
        at_least=10,
    )
    result.ratio("peer deep ÷ HTTP deep (speed-up)", ours="peer deep page", other="HTTP deep page")
    result.ratio(
        "raw deep prepared ÷ unprepared",
        ours="raw keyset deep page, prepared",
        other="raw keyset deep page",
    )
    result.ratio(
        "raw deep generic plan ÷ unprepared",
        ours="raw keyset deep page, generic plan",
        other="raw keyset deep page",
    )
    result.ratio(
        "selector SQL deep: generic plan ÷ unprepared",
        ours="selector's deep-page SQL, generic plan",
        other="selector's deep-page SQL, unprepared",
    )
    result.notes.append(
        "HTTP: one uvicorn worker with the default settings; 'pool': the same with "
        "DATABASE_POOL=1 (psycopg's pool instead of a connection per request)"
    )
    result.notes.append(
        f"typed page: the first page ({n} match events) of a player of {TYPED_CUPS} three-player "
        "cups, with match { round tournament { name } } and the opponent; the flat page reads "
        "the same events' flat fields (today's query)"
    )
    result.notes.append(
        f"deep page = page {size.deep_page} of {n} (after {offset:,} newer events) of a user "
        f"with {UserActivity.objects.filter(user=heavy).count():,} events; Django binds "
        "parameters client-side (no server-side prepared statements) unless "
        "OPTIONS server_side_binding is set"
    )
    return result


def _cpu(query: str, variables: dict[str, Any], *, viewer: Any) -> Any:
    """Like ``schema_variant``, timed in this process's CPU (both its threads) rather than on
    the wall: what the page costs us, without the waits for PostgreSQL and for a free core."""
    from bench.api import execute

    async def call() -> float:
        started = time.process_time()
        await execute(query, variables, viewer=viewer)
        return time.process_time() - started

    return call


def _match_player(size: DatasetSize) -> Any:
    """A player with enough matches for a page of them: the last spare users, made once by
    saving cups, registrations and matches as the platform does (so the ledger records them)."""
    from django.contrib.auth import get_user_model

    from esports.tournaments.models import Match, Registration, Tournament
    from ledger.models import UserActivity

    users = list(
        get_user_model()
        .objects.filter(pk__gte=first_user_id() + size.users)
        .order_by("-pk")[:TYPED_PLAYERS]
    )
    newest = UserActivity.objects.filter(user=users[0]).order_by("-timestamp", "-id")
    kinds = set(newest.values_list("event_type", flat=True)[: size.page_size])
    if len(newest[: size.page_size]) == size.page_size and kinds <= MATCH_TYPES:
        return users[0]
    cups = []
    for cup in range(TYPED_CUPS):  # every registration first: the newest events are matches
        tournament = Tournament.objects.create(
            name=f"Bench Typed Cup {cup}", game="valorant", status="live", team_size=1
        )
        entries = [
            Registration.objects.create(tournament=tournament, user=user, status="confirmed")
            for user in users
        ]
        cups.append((tournament, entries))
    for tournament, entries in cups:
        for round_no in (1, 2):
            for i, entry in enumerate(entries):
                Match.objects.create(
                    tournament=tournament,
                    round=round_no,
                    participant1=entry,
                    participant2=entries[(i + round_no) % len(entries)],
                    state="completed",
                    winner=entry,
                )
    return users[0]


MATCH_TYPES = {"match_played", "match_won", "match_lost"}


def _check_typed_page(player: Any, variables: dict[str, Any], n: int) -> None:
    """The typed page is a full page of match events, every one with its match and opponent."""
    from asgiref.sync import async_to_sync

    from bench.api import execute

    data = async_to_sync(execute)(TYPED, variables, viewer=player)
    nodes = [edge["node"] for edge in data["activityFeed"]["edges"]]
    complete = [node for node in nodes if node["match"] and node["opponent"]]
    if len(complete) != n:
        raise AssertionError(f"the typed page holds {len(complete)} complete match events, not {n}")


def _check_same_rows(client: HttpClient, raw_rows: list[Any], deep_vars: dict[str, Any]) -> None:
    """The measured page is the right page: the schema returns the raw query's ids."""
    data = client.post(FEED, deep_vars)
    from graphql_api.nodes.ids import decode_global_id

    ids = [decode_global_id(edge["node"]["id"])[1] for edge in data["activityFeed"]["edges"]]
    expected = [row[0] for row in raw_rows[: len(ids)]]
    if ids != expected or not ids:
        raise AssertionError(f"the schema's deep page differs from the raw keyset page: {ids[:3]}")


def _selector_sql(user_id: int, at: Any, last_id: int, n: int) -> tuple[str, list[Any]]:
    """The SQL the API runs for the deep page (ledger.selectors.activity_feed_query), to run it
    as a prepared statement with a generic plan (what server_side_binding would bring)."""
    from ledger.selectors import Position, activity_feed_query, page_request

    query = activity_feed_query(
        user_id=user_id,
        request=page_request(first=n, after=Position(key=at, id=last_id)),
        include_economy=True,
    )
    sql, params = query.query.sql_with_params()
    return sql, list(params)
