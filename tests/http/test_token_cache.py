"""The bearer-token cache and its bound: a revoked token or a changed user is refused from the
commit on in the process that changed it, on other processes as soon as the announcement
arrives, and everywhere within API_TOKEN_CACHE_SECONDS however it changed."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.utils import timezone

from graphql_api.auth import cache
from graphql_api.auth.cache import CREDENTIALS_BROADCAST, TokenCache
from graphql_api.auth.models import ApiToken
from graphql_api.auth.tokens import issue_api_token, revoke_api_tokens, token_digest
from tests.factories import UserFactory
from tests.http.conftest import LiveServer, post_graphql
from tests.support import services
from tests.support.processes import run_python

ME = "query Me { me { id username } }"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def Row(pk: int) -> Any:
    """A user row as the token lookup returns it (built, not saved)."""
    return UserFactory.build(pk=pk, username=f"row{pk}")


def test_entries_expire_after_the_ttl_and_the_lru_keeps_its_size():
    clock = Clock()
    tokens = TokenCache(size=2, ttl=10, clock=clock)
    for n in (1, 2):
        tokens.put(f"d{n}", Row(n), generation=tokens.generation())
    assert tokens.get("d1").pk == 1  # d1 is now the most recent
    tokens.put("d3", Row(3), generation=tokens.generation())
    assert tokens.get("d2") is None  # the least recently used went
    clock.now += 9.99
    assert tokens.get("d1").pk == 1
    clock.now += 0.02
    assert tokens.get("d1") is None
    assert tokens.get("d3") is None


def test_a_row_read_before_an_eviction_is_not_cached():
    tokens = TokenCache(size=10, ttl=10)
    seen = tokens.generation()
    tokens.evict_user(7)  # revoked while the request was reading the token row
    tokens.put("d", Row(7), generation=seen)
    assert tokens.get("d") is None


def test_each_hit_is_a_private_copy():
    tokens = TokenCache(size=10, ttl=10)
    tokens.put("d", Row(1), generation=tokens.generation())
    first = tokens.get("d")
    first.pk = 99
    first.username = "changed"
    again = tokens.get("d")
    assert (again.pk, again.username) == (1, "row1")
    assert again is not first


@pytest.fixture
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(cache, "tokens", TokenCache(size=100, ttl=30, clock=clock))
    return clock


@pytest.mark.django_db(transaction=True)
def test_a_revoked_token_is_refused_at_once_and_a_changed_user_is_read_again(fresh_cache):
    user = UserFactory.create(username="before")
    _, token = issue_api_token(user=user)
    _, other = issue_api_token(user=UserFactory.create())
    assert post_graphql(ME, token=token).json()["data"]["me"]["username"] == "before"
    assert post_graphql(ME, token=other).status == 200
    assert len(cache.tokens) == 2
    user.username = "after"
    user.save()  # post_save announces: the cached copy goes
    assert post_graphql(ME, token=token).json()["data"]["me"]["username"] == "after"
    revoke_api_tokens(user=user)
    assert post_graphql(ME, token=token).status == 401
    assert post_graphql(ME, token=other).status == 200  # another user's entry stays


@pytest.mark.django_db(transaction=True)
def test_a_deactivated_user_is_refused_at_once(fresh_cache):
    user = UserFactory.create()
    _, token = issue_api_token(user=user)
    assert post_graphql(ME, token=token).status == 200
    user.is_active = False
    user.save()
    assert post_graphql(ME, token=token).status == 401


@pytest.mark.django_db(transaction=True)
def test_a_revocation_nobody_announced_still_ends_within_the_ttl(fresh_cache):
    user = UserFactory.create()
    _, token = issue_api_token(user=user)
    assert post_graphql(ME, token=token).status == 200
    ApiToken.objects.filter(digest=token_digest(token)).update(revoked_at=timezone.now())  # SQL
    fresh_cache.now += 29
    assert post_graphql(ME, token=token).status == 200  # cached: within the stated bound
    fresh_cache.now += 1.01
    assert post_graphql(ME, token=token).status == 401


@pytest.mark.django_db(transaction=True)
def test_the_listener_evicts_what_another_process_announces(fresh_cache):
    user = UserFactory.create()
    _, token = issue_api_token(user=user)

    async def scenario() -> int:
        from tests.http.conftest import call_asgi

        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        body = b'{"query": "{ me { id } }"}'
        assert (await call_asgi(body=body, headers=headers)).status == 200
        assert len(cache.tokens) == 1
        await asyncio.sleep(0.05)  # the listener joins its group
        layer = get_channel_layer()
        await layer.group_send(CREDENTIALS_BROADCAST, {"type": "x", "user_id": user.pk})
        for _ in range(100):
            if not len(cache.tokens):
                break
            await asyncio.sleep(0.01)
        return len(cache.tokens)

    assert asyncio.run(scenario()) == 0


REVOKE = """
from django.contrib.auth import get_user_model
from graphql_api.auth.tokens import revoke_api_tokens
revoke_api_tokens(user=get_user_model().objects.get(username="cross"))
"""


def _status(server: LiveServer, token: str) -> int:
    request = urllib.request.Request(
        f"{server.url}/graphql/",
        data=b'{"query": "{ me { id } }"}',
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.postgres
@pytest.mark.timeout(90)
@pytest.mark.django_db(transaction=True)
def test_a_revocation_in_another_process_reaches_a_worker_long_before_the_ttl(
    start_worker, live_server_env
):
    redis = services.redis_url(9)
    prefix = f"dchttp-{time.monotonic_ns()}"
    user = UserFactory.create(username="cross")
    _, token = issue_api_token(user=user)
    _, quiet = issue_api_token(user=UserFactory.create())
    server = start_worker(
        REDIS_URL=redis, CHANNEL_LAYER_PREFIX=prefix, API_TOKEN_CACHE_SECONDS="600"
    )
    assert _status(server, token) == 200
    assert _status(server, quiet) == 200
    time.sleep(0.5)  # the worker's listener has joined its group
    # the worker does cache: a revocation nobody announces goes unseen (up to the TTL)
    ApiToken.objects.filter(digest=token_digest(quiet)).update(revoked_at=timezone.now())
    assert _status(server, quiet) == 200
    run_python(
        ["manage.py", "shell", "-c", REVOKE],
        env={**live_server_env, "REDIS_URL": redis, "CHANNEL_LAYER_PREFIX": prefix},
    )
    try:
        deadline = time.monotonic() + 5
        while _status(server, token) == 200:
            assert time.monotonic() < deadline, "still accepted 5 s after the revocation"
            time.sleep(0.05)
        assert _status(server, token) == 401
    finally:
        import redis as redis_client

        client = redis_client.Redis.from_url(redis, socket_timeout=5)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
