"""activityAdded: visibility as the feed query, the `after` catch-up, order, no gap, no duplicate,
and publication only after commit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.db import transaction

from esports.profiles.models import UserProfile
from esports.tournaments.models import Match
from graphql_api.activity.queries import FEED_CURSOR
from graphql_api.auth.tokens import issue_api_token
from graphql_api.pagination import encode_cursor
from graphql_api.subscriptions import feed as feed_module
from graphql_api.subscriptions import publisher
from graphql_api.subscriptions.groups import user_group
from ledger.drafts import RecordedEvent
from ledger.models import EventType, UserActivity
from tests.factories import MatchFactory, UserFactory, transaction_for
from tests.graphql_api.conftest import BASE_TIME, db_id, make_events
from tests.graphql_api.subscriptions.conftest import (
    FEED,
    connected,
    follow,
    ids,
    in_db,
    quiet,
    receive_edges,
    receive_error,
    subscribe,
)
from tests.graphql_api.typed_feed import EVENT_FIELDS, expected_node

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def bearer(user) -> dict[str, str]:
    _, token = issue_api_token(user=user)
    return {"Authorization": f"Bearer {token}"}


def feed_ids(user) -> list[int]:
    """The user's events oldest first by (timestamp, id): the order a subscription yields."""
    return list(
        UserActivity.objects.filter(user=user)
        .order_by("timestamp", "id")
        .values_list("id", flat=True)
    )


def cursor_of(event_id: int) -> str:
    event = UserActivity.objects.get(pk=event_id)
    return encode_cursor(FEED_CURSOR, event.timestamp, event.pk)


def make_private(user) -> None:
    UserProfile.objects.filter(user=user).update(activity_public=False)


async def test_a_private_feed_is_refused_to_others_but_not_to_its_owner_or_staff():
    owner = await in_db(UserFactory.create)(username="hermit")
    other = await in_db(UserFactory.create)(username="nosy")
    staff = await in_db(UserFactory.create)(username="mod", is_staff=True)
    await in_db(make_private)(owner)
    variables = {"userId": str(owner.pk)}
    async with connected(await in_db(bearer)(other)) as ws:
        error = await receive_error(ws, await subscribe(ws, FEED, variables))
    assert (error["message"], error["extensions"]["code"]) == (
        "This player's activity is private.",
        "FORBIDDEN",
    )
    async with connected() as ws:  # anonymous, too
        error = await receive_error(ws, await subscribe(ws, FEED, variables))
    assert error["extensions"]["code"] == "FORBIDDEN"
    for viewer in (owner, staff):
        async with connected(await in_db(bearer)(viewer)) as ws:
            op = await follow(ws, FEED, variables, user_id=owner.pk)
            await in_db(make_events)(owner, 1, first_source_id=viewer.pk * 10)
            [edge] = await receive_edges(ws, op, 1)
            assert edge["node"]["eventType"] == "ACHIEVEMENT_UNLOCKED"


async def test_economy_events_reach_only_the_owner_and_staff():
    owner = await in_db(UserFactory.create)(username="earner")
    other = await in_db(UserFactory.create)(username="watcher")
    staff = await in_db(UserFactory.create)(username="auditor", is_staff=True)
    variables = {"userId": str(owner.pk)}
    async with (
        connected(await in_db(bearer)(owner)) as mine,
        connected(await in_db(bearer)(other)) as theirs,
        connected(await in_db(bearer)(staff)) as staffs,
    ):
        ops = {}
        for ws in (mine, theirs, staffs):
            ops[ws] = await subscribe(ws, FEED, variables)
        from tests.graphql_api.subscriptions.conftest import joined

        await joined(user_group(owner.pk), members=3)
        await in_db(transaction_for)(owner, 300)  # coins_earned
        await in_db(make_events)(owner, 1, start=BASE_TIME.replace(year=2030))
        owner_sees = await receive_edges(mine, ops[mine], 2)
        staff_sees = await receive_edges(staffs, ops[staffs], 2)
        other_sees = await receive_edges(theirs, ops[theirs], 1)
        assert await quiet(theirs)
    assert [e["node"]["eventType"] for e in owner_sees] == ["COINS_EARNED", "ACHIEVEMENT_UNLOCKED"]
    assert owner_sees[0]["node"]["amount"] == 300
    assert staff_sees == owner_sees
    assert [e["node"]["eventType"] for e in other_sees] == ["ACHIEVEMENT_UNLOCKED"]


async def test_after_yields_every_missed_event_in_order_then_live_ones():
    user = await in_db(UserFactory.create)(username="returning")
    await in_db(make_events)(user, 5)
    await in_db(make_events)(
        user,
        3,
        event_type=EventType.MATCH_PLAYED,
        source_model="tests.tied",
        start=BASE_TIME + timedelta(minutes=2),
        step=timedelta(0),
    )
    order = await in_db(feed_ids)(user)
    assert len(order) == 8
    seen = order[:3]  # the client saw three events, then lost its connection
    async with connected(await in_db(bearer)(user)) as ws:
        op = await follow(ws, FEED, {"after": await in_db(cursor_of)(seen[-1])}, user_id=user.pk)
        missed = await receive_edges(ws, op, 5)
        await in_db(make_events)(user, 2, start=BASE_TIME.replace(year=2030), first_source_id=90)
        live = await receive_edges(ws, op, 2)
        assert await quiet(ws)
    assert ids(missed) == order[3:]  # shared timestamps ordered by id
    assert ids(live) == (await in_db(feed_ids)(user))[8:]
    # each edge's cursor is the event's feed cursor: a reconnect resumes exactly there
    assert missed[-1]["cursor"] == await in_db(cursor_of)(order[-1])


async def test_a_catch_up_longer_than_a_page_is_whole(monkeypatch):
    from graphql_api.subscriptions import resolvers

    reads: list[int] = []

    def counted(**kwargs):
        rows, more = feed_module.rows_after(**kwargs)
        reads.append(len(rows))
        return rows, more

    monkeypatch.setattr(resolvers, "rows_after", counted)
    user = await in_db(UserFactory.create)(username="away")
    await in_db(make_events)(user, 251)
    order = await in_db(feed_ids)(user)
    async with connected(await in_db(bearer)(user)) as ws:
        op = await follow(ws, FEED, {"after": await in_db(cursor_of)(order[0])}, user_id=user.pk)
        missed = await receive_edges(ws, op, 250)
        assert await quiet(ws)
    assert ids(missed) == order[1:]
    assert reads == [100, 100, 50]  # keyset pages of the selector, oldest first


@pytest.mark.parametrize(
    "before",
    [
        pytest.param(True, id="committed during the catch-up: read and announced, yielded once"),
        pytest.param(False, id="committed right after the catch-up read: announced, no gap"),
    ],
)
async def test_an_event_committed_around_the_catch_up_read_is_yielded_once(monkeypatch, before):
    """Joined before the read: an event committed before the first read (after the join) is both
    read and announced; one committed right after it is announced."""
    from graphql_api.subscriptions import resolvers

    user = await in_db(UserFactory.create)(username="racer")
    await in_db(make_events)(user, 3)
    order = await in_db(feed_ids)(user)
    real = feed_module.rows_after
    calls = {"n": 0}

    def commit() -> None:
        make_events(user, 1, start=BASE_TIME.replace(year=2030), first_source_id=50)

    def read(**kwargs):
        calls["n"] += 1
        first = calls["n"] == 1
        if first and before:
            commit()
        result = real(**kwargs)
        if first and not before:
            commit()
        return result

    monkeypatch.setattr(resolvers, "rows_after", read)
    async with connected(await in_db(bearer)(user)) as ws:
        op = await follow(ws, FEED, {"after": await in_db(cursor_of)(order[0])}, user_id=user.pk)
        edges = await receive_edges(ws, op, 3)
        assert await quiet(ws)
    assert ids(edges) == (await in_db(feed_ids)(user))[1:]


async def test_a_message_the_layer_lost_is_made_up_by_the_next_one(monkeypatch):
    user = await in_db(UserFactory.create)(username="lossy")
    real = publisher.messages_for
    dropped = {"n": 0}

    def drop_first(events):
        if dropped["n"] == 0:
            dropped["n"] += 1
            return []
        return real(events)

    monkeypatch.setattr(publisher, "messages_for", drop_first)
    async with connected(await in_db(bearer)(user)) as ws:
        op = await follow(ws, FEED, user_id=user.pk)
        await in_db(make_events)(user, 1, first_source_id=1)  # announced to nobody
        assert await quiet(ws)
        await in_db(make_events)(user, 1, first_source_id=2, start=BASE_TIME.replace(year=2030))
        edges = await receive_edges(ws, op, 2)
    assert ids(edges) == await in_db(feed_ids)(user)


async def test_events_are_announced_after_commit_and_never_for_a_rollback():
    user = await in_db(UserFactory.create)(username="atomic")

    async with connected(await in_db(bearer)(user)) as ws:
        op = await follow(ws, FEED, user_id=user.pk)

        def rolled_back() -> None:
            try:
                with transaction.atomic():
                    make_events(user, 1, first_source_id=1)
                    raise RuntimeError("the platform's transaction fails")
            except RuntimeError:
                pass
            assert not UserActivity.objects.filter(user=user).exists()

        def committed_later() -> None:
            with transaction.atomic():
                make_events(user, 1, first_source_id=2)
                # inside the transaction: nothing announced yet
                assert async_to_sync(ws.receive_nothing)(timeout=0.3)

        await in_db(rolled_back)()
        assert await quiet(ws)
        await in_db(committed_later)()
        [edge] = await receive_edges(ws, op, 1)
    assert [db_id(edge["node"]["id"])] == await in_db(feed_ids)(user)


async def test_completing_a_subscription_leaves_the_group():
    user = await in_db(UserFactory.create)(username="leaver")
    async with connected(await in_db(bearer)(user)) as ws:
        op = await follow(ws, FEED, user_id=user.pk)
        await ws.send_json_to({"id": op, "type": "complete"})
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        import asyncio

        async with asyncio.timeout(5):
            while layer.groups.get(user_group(user.pk)):
                await asyncio.sleep(0.01)


async def test_a_message_carries_the_user_and_event_ids_only():
    events = (
        RecordedEvent(id=9, user_id=2, event_type="match_won", source_model="m", source_id=1),
        RecordedEvent(id=7, user_id=2, event_type="match_played", source_model="m", source_id=1),
        RecordedEvent(id=8, user_id=1, event_type="match_played", source_model="m", source_id=1),
    )
    assert publisher.messages_for(events) == [
        ("ledger.user.1", {"type": "ledger.activity", "user_id": 1, "event_ids": [8]}),
        ("ledger.user.2", {"type": "ledger.activity", "user_id": 2, "event_ids": [7, 9]}),
    ]


TYPED_FEED = f"""subscription($after: String) {{
  activityAdded(after: $after) {{ cursor node {{ {EVENT_FIELDS} }} }} }}"""


def _played_match(winner, loser) -> None:
    match = MatchFactory.create(participant1__user=winner, participant2__user=loser)
    match.state, match.winner = Match.State.COMPLETED, match.participant1
    match.save()
    match.winner = match.participant2  # corrected: a reversal and the new outcome
    match.save()


def _expected(user) -> list[dict]:
    events = UserActivity.objects.filter(user=user).select_related("user", "reverses")
    return [expected_node(e) for e in events.order_by("timestamp", "id")]


async def test_live_edges_are_the_feeds_typed_edges_with_their_objects_linked():
    winner = await in_db(UserFactory.create)(username="typed")
    loser = await in_db(UserFactory.create)(username="rival")
    async with connected(await in_db(bearer)(winner)) as ws:
        op = await follow(ws, TYPED_FEED, user_id=winner.pk)
        await in_db(_played_match)(winner, loser)
        expected = await in_db(_expected)(winner)
        edges = await receive_edges(ws, op, len(expected))
        assert await quiet(ws)
    nodes = [edge["node"] for edge in edges]
    assert nodes == expected
    assert {n["__typename"] for n in nodes} >= {
        "TournamentRegisteredEvent",
        "MatchPlayedEvent",
        "MatchWonEvent",
        "MatchLostEvent",
        "CorrectionEvent",
    }
