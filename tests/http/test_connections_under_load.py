"""A real worker under concurrency, on PostgreSQL: the connections it holds never exceed its
pool, every request within the wait bound succeeds, and beyond the bound the answer is 503
with Retry-After, never a 500."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.db import connection

from graphql_api.auth.tokens import issue_api_token
from tests.factories import UserFactory
from tests.support import services

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.timeout(180),
    pytest.mark.django_db(transaction=True),
]

STATS = (
    b'{"query": "query S($id: ID) { stats(userId: $id) { matchesPlayed } }", '
    b'"variables": {"id": "%d"}}'
)


def _post(url: str, body: bytes, token: str) -> tuple[int, str | None]:
    request = urllib.request.Request(
        url,
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
            return int(response.status), None
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Retry-After")


def _connections(application_name: str) -> int:
    with psycopg.connect(services.postgres_url(connection.settings_dict), autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            [application_name],
        ).fetchone()
    return int(row[0]) if row else 0


def _burst(
    url: str, body: bytes, token: str, clients: int, each: int
) -> list[tuple[int, str | None]]:
    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(lambda _: _post(url, body, token), range(clients * each)))


def test_two_hundred_clients_all_succeed_on_a_pool_of_three(start_worker, live_server_env):
    user = UserFactory.create()
    _, token = issue_api_token(user=user)
    name = f"dchttp-{uuid.uuid4().hex[:8]}"
    server = start_worker(
        DATABASE_URL=f"{live_server_env['DATABASE_URL']}?application_name={name}",
        DATABASE_POOL_MAX="3",
    )
    url = f"{server.url}/graphql/"
    seen: list[int] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.append(_connections(name))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        replies = _burst(url, STATS % user.pk, token, clients=200, each=2)
    finally:
        done.set()
        watcher.join()
    assert [status for status, _ in replies] == [200] * 400
    assert max(seen) <= 3, seen
    assert max(seen) >= 1  # the watcher did see the worker's connections


def test_beyond_the_wait_bound_requests_get_503_with_retry_after_never_500(start_worker):
    user = UserFactory.create()
    _, token = issue_api_token(user=user)
    server = start_worker(DATABASE_POOL_MAX="1", HTTP_QUEUE="4")
    replies = _burst(f"{server.url}/graphql/", STATS % user.pk, token, clients=60, each=2)
    statuses = {status for status, _ in replies}
    assert statuses <= {200, 503}, statuses
    assert 200 in statuses
    shed = [retry for status, retry in replies if status == 503]
    assert shed, "60 clients on one slot and a queue of 4: some must be shed"
    assert set(shed) == {"1"}
