"""A lagging replica never makes the live feed miss or delay an event: with the real replica's
replay paused, a new event reaches a live subscription and a catch-up from a cursor at once
(both read the primary), while the API's feed, served by the replica, shows it only once the
replica has replayed it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import AsyncClient

from graphql_api.activity.queries import FEED_CURSOR
from graphql_api.auth.tokens import issue_api_token
from graphql_api.pagination import encode_cursor
from ledger.models import UserActivity
from tests.conftest import REPLICA_TEST
from tests.factories import UserFactory
from tests.graphql_api.conftest import BASE_TIME, db_id, make_events
from tests.graphql_api.subscriptions.conftest import (
    FEED,
    connected,
    follow,
    ids,
    in_db,
    receive_edges,
    subscribe,
)

pytestmark = [
    pytest.mark.postgres,
    REPLICA_TEST,
    pytest.mark.asyncio,
    pytest.mark.usefixtures("replica_db"),
]

FEED_QUERY = """query($userId: ID) {
  activityFeed(userId: $userId, first: 10) { edges { node { id } } } }"""


def bearer(user: Any) -> dict[str, str]:
    _, token = issue_api_token(user=user)
    return {"Authorization": f"Bearer {token}"}


def cursor_of(event_id: int) -> str:
    event = UserActivity.objects.get(pk=event_id)
    return encode_cursor(FEED_CURSOR, event.timestamp, event.pk)


def feed_ids(user: Any) -> list[int]:
    """Newest first, as the feed shows them, read from the primary."""
    rows = UserActivity.objects.filter(user=user).order_by("-timestamp", "-id")
    return list(rows.values_list("id", flat=True))


async def api_feed(user: Any, headers: dict[str, str]) -> list[int]:
    """The feed as a client reads it over HTTP: a query, so from the replica."""
    response = await AsyncClient().post(
        "/graphql/",
        data={"query": FEED_QUERY, "variables": {"userId": str(user.pk)}},
        content_type="application/json",
        headers=headers,
    )
    body = response.json()
    assert "errors" not in body, body
    return [db_id(edge["node"]["id"]) for edge in body["data"]["activityFeed"]["edges"]]


async def test_a_paused_replica_neither_delays_nor_hides_an_event_from_the_live_feed(replica_db):
    user = await in_db(UserFactory.create)(username="ann")
    headers = await in_db(bearer)(user)
    await in_db(make_events)(user, 1, source_model="tests.before")
    [old] = await in_db(feed_ids)(user)
    await in_db(replica_db.catch_up)()
    assert await api_feed(user, headers) == [old]

    await in_db(replica_db.pause)()
    try:
        async with connected(headers) as ws:
            live = await follow(ws, FEED, {"userId": str(user.pk)}, user_id=user.pk)
            await in_db(make_events)(
                user, 1, source_model="tests.during", start=BASE_TIME + timedelta(hours=1)
            )
            [new] = ids(await receive_edges(ws, live, 1))
            assert await in_db(feed_ids)(user) == [new, old]
            after_old = {"userId": str(user.pk), "after": await in_db(cursor_of)(old)}
            catch_up = await subscribe(ws, FEED, after_old)
            assert ids(await receive_edges(ws, catch_up, 1)) == [new]
        assert await api_feed(user, headers) == [old]  # the replica has not replayed it
    finally:
        await in_db(replica_db.resume)()
    await in_db(replica_db.catch_up)()
    assert await api_feed(user, headers) == [new, old]
