"""The User node (public: who a player is and their lifetime stats) and its profile."""

from __future__ import annotations

from typing import Any

import strawberry
import strawberry_django
from django.contrib.auth import get_user_model
from strawberry import Parent, relay
from strawberry.types import Info

from esports.profiles.models import UserProfile
from graphql_api.context import db, viewer_of
from graphql_api.errors import BadInput
from graphql_api.nodes.fields import ColumnField, platform_node
from graphql_api.nodes.ids import USER_TYPE
from graphql_api.permissions import require_activity
from graphql_api.social.types import UserFollows
from graphql_api.stats.types import GameStats, MatchOutcome, RecentResult, UserStats
from graphql_api.tournaments.loaders import MatchesById
from graphql_api.users.loaders import GamesByUserId, StatsByUserId, UsersById
from ledger.selectors import RECENT_KEPT, recent_results

MAX_RECENT_RESULTS = RECENT_KEPT

DATABASE_ID_DEPRECATION = (
    "Use `id` (an opaque global ID, which every ID argument accepts); numeric ids are kept "
    "for clients that stored them (decision 0009)."
)

_PRELOADED_STATS = "_ledger_stats"
"""Where a listing that already read a user's stats (the leaderboard) leaves them."""


@strawberry_django.type(
    UserProfile, field_cls=ColumnField, name="Profile", description="A player's public profile."
)
class Profile:
    activity_public: bool = strawberry_django.field(
        field_cls=ColumnField,
        description="Whether others may see this player's activity feed and history.",
    )

    @strawberry.field(description="The name to show: the display name, else the username.")
    def display_name(self, root: Parent[UserProfile]) -> str:
        return root.display_name or root.user.get_username()


def _profile_or_default(user: Any, profile: UserProfile | None) -> UserProfile:
    # A user created outside the platform has no profile: private, no display name.
    return profile if profile is not None else UserProfile(user=user, activity_public=False)


async def _load_profile(info: Info, user: Any) -> UserProfile:
    loaded = await UsersById.of(info).load(user.pk)
    profile = loaded._state.fields_cache.get("profile") if loaded is not None else None
    return _profile_or_default(user, profile)


@platform_node(
    get_user_model(),
    name=USER_TYPE,
    description="A player. Its id is a global ID; every userId argument takes it.",
)
class UserNode(UserFollows, relay.Node):
    username: str

    @strawberry.field(deprecation_reason=DATABASE_ID_DEPRECATION)
    def database_id(self, root: Parent[Any]) -> int:
        return int(root.pk)

    @strawberry.field
    def profile(self, root: Parent[Any], info: Info) -> Profile:
        # Every listing reads users with their profiles; a user read without one loads it.
        cached = root._state.fields_cache
        if "profile" in cached:
            return _profile_or_default(root, cached["profile"])  # type: ignore[return-value]
        return _load_profile(info, root)  # type: ignore[return-value]

    @strawberry.field(description="Lifetime stats (public).")
    async def stats(self, root: Parent[Any], info: Info) -> UserStats:
        values = getattr(root, _PRELOADED_STATS, None)
        if values is None:
            values = await StatsByUserId.of(info).load(root.pk)
        assert values is not None, "every user id reads stats (zeros without a row)"
        return UserStats.from_values(values, user_id=root.pk)

    @strawberry.field(description="Stats in each game the player played (public), by name.")
    async def games(self, root: Parent[Any], info: Info) -> list[GameStats]:
        games = await GamesByUserId.of(info).load(root.pk)
        assert games is not None, "every user id reads a list (empty without games)"
        return [
            GameStats(
                game=g.game, stats=UserStats.from_values(g.stats, user_id=root.pk, game=g.game)
            )
            for g in games
        ]

    @strawberry.field(
        description="The last matches played to a result (forfeits included), newest first, "
        "each with its outcome and match (a private player's: to them and staff only)."
    )
    async def recent_results(
        self, root: Parent[Any], info: Info, last: int = 10
    ) -> list[RecentResult]:
        if not 0 <= last <= MAX_RECENT_RESULTS:
            raise BadInput(f"last must be between 0 and {MAX_RECENT_RESULTS}.", field="last")
        cached = root._state.fields_cache
        profile = (
            _profile_or_default(root, cached["profile"])
            if "profile" in cached
            else await _load_profile(info, root)
        )
        require_activity(viewer_of(info), owner_id=root.pk, activity_public=profile.activity_public)
        results = await db(recent_results)(user_id=root.pk, last=last)
        matches = await MatchesById.of(info).load_many(
            [r.match_id for r in results if r.match_id is not None]
        )
        by_id = {match.pk: match for match in matches if match is not None}
        return [
            RecentResult(
                outcome=MatchOutcome(r.outcome),
                played_at=r.timestamp,
                game=r.game,
                # strawberry-django serves the model instance as the node
                match=by_id.get(r.match_id) if r.match_id is not None else None,  # type: ignore[arg-type]
            )
            for r in results
        ]

    @classmethod
    def from_user(cls, user: Any, *, stats: dict[str, Any] | None = None) -> UserNode:
        """A user as this node (read with its profile), with stats already read, if any."""
        if stats is not None:
            setattr(user, _PRELOADED_STATS, stats)
        return user
