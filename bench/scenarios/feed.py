"""3. activityFeed, first page and a deep page of a heavy user: through the schema in-process
and over HTTP, next to the raw keyset query (prepared and not) and the peer's actor stream.

The viewer is the heavy user (bearer token), so the page holds every kind of event.
"""

from __future__ import annotations

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
        samples = race(
            {
                "schema first page": schema_variant(FEED, first_vars, viewer=heavy),
                "schema deep page": schema_variant(FEED, deep_vars, viewer=heavy),
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
    # The floor is the faster of the two raw variants, page by page.
    for page in ("first", "deep"):
        fastest = min(
            (f"raw keyset {page} page", f"raw keyset {page} page, prepared"),
            key=lambda name: result.figures[name]["p50"],
        )
        result.figures[f"raw keyset {page} page (floor)"] = dict(result.figures[fastest])
        result.ratio(
            f"schema {page} page ÷ raw keyset",
            ours=f"schema {page} page",
            other=f"raw keyset {page} page (floor)",
            goal="≤ 5",
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
        "schema deep ÷ schema first",
        ours="schema deep page",
        other="schema first page",
        goal="≤ 1.2",
        at_most=1.2,
    )
    result.ratio(
        "HTTP deep ÷ HTTP first",
        ours="HTTP deep page",
        other="HTTP first page",
        goal="≤ 1.2",
        at_most=1.2,
    )
    result.ratio(
        "peer deep ÷ schema deep (speed-up)",
        ours="peer deep page",
        other="schema deep page",
        goal="≥ 10",
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
        f"deep page = page {size.deep_page} of {n} (after {offset:,} newer events) of a user "
        f"with {UserActivity.objects.filter(user=heavy).count():,} events; Django binds "
        "parameters client-side (no server-side prepared statements) unless "
        "OPTIONS server_side_binding is set"
    )
    return result


def _check_same_rows(client: HttpClient, raw_rows: list[Any], deep_vars: dict[str, Any]) -> None:
    """The measured page is the right page: the schema returns the raw query's ids."""
    data = client.post(FEED, deep_vars)
    ids = [int(edge["node"]["id"]) for edge in data["activityFeed"]["edges"]]
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
