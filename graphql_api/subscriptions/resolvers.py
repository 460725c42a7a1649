"""activityAdded, statsUpdated and ledgerJobProgress: visibility as the queries, rows as committed.

Each subscription joins its user's group *before* it reads anything, so an event committed
while it reads is announced to it as well; it then reads forward from its own position, so a
message lost by the channel layer (at most once) is made up by the next one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from functools import partial
from typing import Any

import strawberry
from channels.db import database_sync_to_async
from strawberry.types import Info

from graphql_api.activity.links import wanted_of
from graphql_api.activity.queries import FEED_CURSOR
from graphql_api.activity.types import ActivityEdge
from graphql_api.context import subject_of, viewer_of
from graphql_api.errors import NotFound
from graphql_api.jobs.types import LedgerJobNode
from graphql_api.pagination import decode_time_position, parse_id
from graphql_api.permissions import can_see_economy, require_activity, require_staff
from graphql_api.stats.types import UserStats
from graphql_api.subscriptions.context import consumer_of
from graphql_api.subscriptions.feed import feed_head, rows_after
from graphql_api.subscriptions.forward import ForwardFeed
from graphql_api.subscriptions.groups import ACTIVITY_MESSAGE, user_group
from graphql_api.subscriptions.shared import shared_read, wake_ups
from ledger.models import LedgerJob
from ledger.selectors import ledger_job, user_stats

JOB_POLL_SECONDS = 0.5
"""How often ledgerJobProgress reads its job row (the runner writes it at each checkpoint)."""

db = database_sync_to_async
"""Like graphql_api.context.db, but drops stale or broken connections first: a subscription
lives for hours, with no request cycle to recycle its connection."""


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="A player's new events (userId omitted: the viewer), oldest first, as the "
        "feed's typed edges. With `after` (an edge cursor): first every event after it, then "
        "live ones, no gap and no duplicate. Economy events only for the owner and staff."
    )
    async def activity_added(
        self, info: Info, user_id: strawberry.ID | None = None, after: str | None = None
    ) -> AsyncGenerator[ActivityEdge, None]:
        start = decode_time_position(after, kind=FEED_CURSOR) if after else None
        subject = await subject_of(info, user_id)
        viewer = viewer_of(info)
        require_activity(viewer, owner_id=subject.user_id, activity_public=subject.activity_public)
        include_economy = can_see_economy(viewer, owner_id=subject.user_id)
        user_id_ = subject.user_id
        feed = ForwardFeed(
            info,
            wanted_of(info, ("node",)),
            key=("feed", user_id_, include_economy),
            rows_after=partial(db(rows_after), user_id=user_id_, include_economy=include_economy),
            position=start,
        )
        if start is None:  # from now on: the feed's head, read before joining (see below)
            feed.position = await db(feed_head)(user_id=user_id_, include_economy=include_economy)
        consumer = consumer_of(info)
        async with consumer.listen_to_channel(
            ACTIVITY_MESSAGE, groups=[user_group(user_id_)]
        ) as messages:
            # Joined before the first read: whatever commits from here on is announced to us,
            # and whatever committed before it is read now. Reads go forward from the feed's
            # position only, so nothing is yielded twice.
            async for notified in wake_ups(messages):
                async for edge in feed.edges(since=notified):
                    yield edge

    @strawberry.subscription(
        description="A player's stats (public; userId omitted: the viewer): now, then after "
        "every commit that changes them."
    )
    async def stats_updated(
        self, info: Info, user_id: strawberry.ID | None = None
    ) -> AsyncGenerator[UserStats, None]:
        subject = await subject_of(info, user_id)
        consumer = consumer_of(info)
        async with consumer.listen_to_channel(
            ACTIVITY_MESSAGE, groups=[user_group(subject.user_id)]
        ) as messages:
            last: dict[str, Any] | None = None
            async for notified in wake_ups(messages):
                values = await shared_read(
                    ("stats", subject.user_id),
                    since=notified,
                    read=lambda: db(user_stats)(user_id=subject.user_id),
                )
                if values != last:
                    last = values
                    yield UserStats.from_values(values, user_id=subject.user_id)

    @strawberry.subscription(
        description="A ledger job's status and progress (staff): now, then on every change, "
        "ending once it has succeeded, failed or been cancelled."
    )
    async def ledger_job_progress(
        self, info: Info, id: strawberry.ID
    ) -> AsyncGenerator[LedgerJobNode, None]:
        require_staff(viewer_of(info))
        job_id = parse_id(id, what="id")
        last: tuple[str, int, int | None] | None = None
        while True:
            job = await db(ledger_job)(job_id=job_id)
            if job is None:
                raise NotFound(f"No ledger job {job_id}.", field="id")
            state = (job.status, job.progress_done, job.progress_total)
            if state != last:
                last = state
                yield LedgerJobNode.from_job(job)
            if job.status in LedgerJob.FINISHED:
                return
            await asyncio.sleep(JOB_POLL_SECONDS)
