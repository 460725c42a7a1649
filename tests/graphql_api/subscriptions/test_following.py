"""followingActivityAdded: the followed public players' visible events, live; `after` catch-up;
a player followed after subscribing is heard from too."""

from __future__ import annotations

import pytest

from esports.profiles.models import UserProfile
from esports.social.models import Follow
from graphql_api.activity.queries import FEED_CURSOR
from graphql_api.pagination import encode_cursor
from graphql_api.social.mutations import _follow
from graphql_api.social.publisher import following_group
from graphql_api.subscriptions.groups import user_group
from ledger.models import EventType, UserActivity
from tests.factories import UserFactory, transaction_for
from tests.graphql_api.conftest import BASE_TIME, make_events
from tests.graphql_api.subscriptions.conftest import (
    closed_with,
    connected,
    ids,
    in_db,
    joined,
    quiet,
    receive,
    subscribe,
)
from tests.graphql_api.subscriptions.test_feed import bearer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

FOLLOWING = """subscription($after: String) {
  followingActivityAdded(after: $after) { cursor node { __typename id player { username } } } }"""

LATER = BASE_TIME.replace(year=2030)


async def edges(ws, op: str, count: int) -> list[dict]:
    found = []
    for _ in range(count):
        message = await receive(ws)
        assert (message["id"], message["type"]) == (op, "next"), message
        assert "errors" not in message["payload"], message
        found.append(message["payload"]["data"]["followingActivityAdded"])
    return found


def setup_follows():
    ann, bob, cid, eve = (UserFactory.create(username=n) for n in ("ann", "bob", "cid", "eve"))
    UserProfile.objects.filter(user=cid).update(activity_public=False)
    for user in (bob, cid):
        Follow.objects.create(follower=ann, followed=user)
    return ann, bob, cid, eve


def newest(user, count: int) -> list[int]:
    rows = UserActivity.objects.filter(user=user).order_by("-timestamp", "-id")[:count]
    return list(reversed([row.pk for row in rows]))


def oldest_first(*users) -> list[int]:
    rows = UserActivity.objects.filter(user__in=users).order_by("timestamp", "id")
    return list(rows.values_list("id", flat=True))


def cursor_of(event_id: int) -> str:
    event = UserActivity.objects.get(pk=event_id)
    return encode_cursor(FEED_CURSOR, event.timestamp, event.pk)


async def test_anonymous_callers_are_told_to_sign_in():
    async with connected() as ws:
        await subscribe(ws, FOLLOWING)
        code, _ = await closed_with(ws)
    assert code == 4401


async def test_only_followed_public_players_non_economy_events_arrive_in_order():
    ann, bob, cid, eve = await in_db(setup_follows)()
    await in_db(make_events)(bob, 2)  # history: not pushed without `after`
    async with connected(await in_db(bearer)(ann)) as ws:
        op = await subscribe(ws, FOLLOWING)
        await joined(user_group(bob.pk))
        await joined(user_group(cid.pk))
        await in_db(make_events)(cid, 1, start=LATER, first_source_id=50)  # private
        await in_db(make_events)(eve, 1, start=LATER, first_source_id=60)  # not followed
        await in_db(transaction_for)(bob, 300)  # economy
        await in_db(make_events)(bob, 2, start=LATER, first_source_id=70)
        live = await edges(ws, op, 2)
        assert await quiet(ws)
    assert ids(live) == await in_db(newest)(bob, 2)
    assert {edge["node"]["player"]["username"] for edge in live} == {"bob"}
    assert {edge["node"]["__typename"] for edge in live} == {"AchievementUnlockedEvent"}


async def test_after_yields_the_missed_events_then_live_ones():
    ann, bob, _cid, eve = await in_db(setup_follows)()
    await in_db(Follow.objects.create)(follower=ann, followed=eve)
    await in_db(make_events)(bob, 3, event_type=EventType.MATCH_PLAYED)
    await in_db(make_events)(eve, 3, source_model="tests.eve")
    first = (await in_db(newest)(bob, 3))[0]
    missed_expected = await in_db(oldest_first)(bob, eve)
    start = missed_expected.index(first)
    async with connected(await in_db(bearer)(ann)) as ws:
        op = await subscribe(ws, FOLLOWING, {"after": await in_db(cursor_of)(first)})
        missed = await edges(ws, op, 5 - start)
        await joined(user_group(eve.pk))
        await in_db(make_events)(eve, 1, start=LATER, first_source_id=80, source_model="tests.eve")
        [live] = await edges(ws, op, 1)
        assert await quiet(ws)
    assert ids(missed) == missed_expected[start + 1 :]
    assert ids([live]) == await in_db(newest)(eve, 1)


async def test_a_player_followed_after_subscribing_is_heard_from():
    ann, bob, _cid, eve = await in_db(setup_follows)()
    async with connected(await in_db(bearer)(ann)) as ws:
        op = await subscribe(ws, FOLLOWING)
        await joined(following_group(ann.pk))
        await joined(user_group(bob.pk))
        await in_db(_follow)(follower_id=ann.pk, followed_id=eve.pk, follow=True)
        await joined(user_group(eve.pk))
        await in_db(make_events)(eve, 1, start=LATER, first_source_id=90)
        [edge] = await edges(ws, op, 1)
        await in_db(_follow)(follower_id=ann.pk, followed_id=eve.pk, follow=False)
        await in_db(make_events)(eve, 1, start=LATER.replace(month=6), first_source_id=91)
        assert await quiet(ws)
    assert ids([edge]) == (await in_db(newest)(eve, 2))[:1]
