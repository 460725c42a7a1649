"""7. followingFeed for a viewer following 1,000 players (every player of the quick dataset):
a first and a deep page through the schema, next to one player's activityFeed page at the same
depth through the schema (the feed scenario's heavy player, read by themselves), in one race.

The goal is ≤ 3x the single player's page: the merged feed reads one head row per followed
player and then one window of the page (ledger/selectors/merged.py, decision 0023).
"""

from __future__ import annotations

from typing import Any

from bench.api import direct, race, schema_variant
from bench.common import Mode, Result, raw_connection
from bench.dataset import DatasetSize, first_user_id

FOLLOWED = 1_000
VIEWER = "bench_follower"

FOLLOWING = """query Following($first: Int, $after: String) {
  followingFeed(first: $first, after: $after) {
    edges { cursor node { __typename id timestamp } }
    pageInfo { hasNextPage endCursor }
  }
}"""
FEED = """query Feed($userId: ID, $first: Int, $after: String) {
  activityFeed(userId: $userId, first: $first, after: $after) {
    edges { cursor node { __typename id timestamp } }
    pageInfo { hasNextPage endCursor }
  }
}"""
RAW_FIRST = (
    "SELECT id FROM ledger_useractivity WHERE user_id = %s "
    "ORDER BY timestamp DESC, id DESC LIMIT %s"
)


def run(*, mode: Mode, size: DatasetSize) -> Result:
    from django.contrib.auth import get_user_model

    from bench.api import execute
    from esports.social.selectors import shown_followed_ids
    from ledger.models import UserActivity
    from ledger.selectors.feed import without_economy

    result = Result("following")
    viewer, followed = _viewer_following()
    n = size.page_size
    # The feed scenario's player, read by themselves: a page of n rows at any depth.
    single = get_user_model().objects.get(pk=first_user_id())
    offset = (size.deep_page - 1) * n
    single_deep_at = _position(
        UserActivity.objects.filter(user=single).order_by("-timestamp", "-id"), offset
    )
    merged = without_economy(
        UserActivity.objects.filter(user_id__in=shown_followed_ids(follower_id=viewer.pk))
    ).order_by("-timestamp", "-id")
    deep_at = _position(merged, offset)
    first_vars = {"first": n}
    deep_vars = {"first": n, "after": deep_at}
    single_vars = {"userId": str(single.pk), "first": n}
    single_deep_vars = {**single_vars, "after": single_deep_at}
    for query, variables, field, who in (
        (FOLLOWING, first_vars, "followingFeed", viewer),
        (FOLLOWING, deep_vars, "followingFeed", viewer),
        (FEED, single_vars, "activityFeed", single),
        (FEED, single_deep_vars, "activityFeed", single),
    ):
        assert len(_run(execute, query, variables, who)[field]["edges"]) == n, (field, variables)
    with raw_connection(prepare_threshold=None) as plain:
        samples = race(
            {
                "followingFeed first page": schema_variant(FOLLOWING, first_vars, viewer=viewer),
                "followingFeed deep page": schema_variant(FOLLOWING, deep_vars, viewer=viewer),
                "one player's feed, first page": schema_variant(FEED, single_vars, viewer=single),
                "one player's feed, deep page": schema_variant(
                    FEED, single_deep_vars, viewer=single
                ),
                "raw keyset first page, one player": direct(
                    lambda: plain.execute(RAW_FIRST, [single.pk, n + 1]).fetchall()
                ),
            },
            samples=mode.latency_samples,
        )
    for name, values in samples.items():
        result.figure(name, "ms", values)
    for page in ("first", "deep"):
        result.ratio(
            f"followingFeed {page} page ÷ one player's feed {page} page",
            ours=f"followingFeed {page} page",
            other=f"one player's feed, {page} page",
            at_most=3,
        )
    result.ratio(
        "followingFeed first page ÷ raw keyset (one player)",
        ours="followingFeed first page",
        other="raw keyset first page, one player",
    )
    result.notes.append(
        f"viewer follows {len(followed):,} players holding {merged.count():,} visible events; "
        f"page of {n}; deep page = after {offset:,} newer events, in both feeds; the single "
        f"player has {UserActivity.objects.filter(user=single).count():,} events"
    )
    return result


def _viewer_following() -> tuple[Any, list[int]]:
    """The viewer (made once) and the 1,000 players it follows: the dataset's first users."""
    from django.contrib.auth import get_user_model

    from esports.social.models import Follow

    users = get_user_model()
    viewer, _ = users.objects.get_or_create(username=VIEWER)
    followed = list(
        users.objects.filter(pk__gte=first_user_id())
        .exclude(pk=viewer.pk)
        .order_by("pk")
        .values_list("pk", flat=True)[:FOLLOWED]
    )
    Follow.objects.bulk_create(
        [Follow(follower=viewer, followed_id=pk) for pk in followed], ignore_conflicts=True
    )
    return viewer, followed


def _position(queryset: Any, offset: int) -> str:
    from graphql_api.pagination import encode_cursor

    at, last_id = queryset.values_list("timestamp", "id")[offset - 1]
    return encode_cursor("feed", at, last_id)


def _run(execute: Any, query: str, variables: dict[str, Any], viewer: Any) -> Any:
    import asyncio

    return asyncio.run(execute(query, variables, viewer=viewer))
