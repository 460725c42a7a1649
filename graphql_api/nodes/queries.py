"""``node(id:)`` and ``nodes(ids:)``: refetch anything by its global ID, as the lists show it.

Platform objects (User, Tournament, Match, Team, Achievement) are public, as the platform shows
them; an event is shown only where the feed would show it (decision 0009). Ids of one kind are
read in one query, however many are asked for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from graphql_api.achievements.loaders import AchievementsById
from graphql_api.activity.events import EVENT_TYPE_OF_NODE, events_for
from graphql_api.activity.links import wanted_of
from graphql_api.activity.loaders import EventRowsById
from graphql_api.errors import BadInput
from graphql_api.nodes.ids import USER_TYPE, decode_global_id
from graphql_api.teams.loaders import TeamsById
from graphql_api.tournaments.loaders import MatchesById, TournamentsById
from graphql_api.users.loaders import UsersById
from ledger.selectors import MAX_PAGE_SIZE

Resolve = Callable[[Info, list[tuple[str, int]]], Awaitable[list[Any | None]]]


def _platform(loader: Any) -> Resolve:
    async def resolve(info: Info, ids: list[tuple[str, int]]) -> list[Any | None]:
        found: list[Any | None] = await loader.of(info).load_many([pk for _, pk in ids])
        return found

    return resolve


async def _events(info: Info, ids: list[tuple[str, int]]) -> list[Any | None]:
    rows = await EventRowsById.of(info).load_many([pk for _, pk in ids])
    # An event's global ID names its concrete type: another type's name finds nothing.
    typed = [
        row if row is not None and row["event_type"] == EVENT_TYPE_OF_NODE[type_name] else None
        for (type_name, _), row in zip(ids, rows, strict=True)
    ]
    return await events_for(info, typed, wanted_of(info), check_visibility=True)


RESOLVERS: dict[str, Resolve] = {
    USER_TYPE: _platform(UsersById),
    "Tournament": _platform(TournamentsById),
    "Match": _platform(MatchesById),
    "Team": _platform(TeamsById),
    "Achievement": _platform(AchievementsById),
    **dict.fromkeys(EVENT_TYPE_OF_NODE, _events),
}
"""Every Node type and how a batch of its ids is read (a test checks every Node is here)."""


def _parse(value: str, *, what: str) -> tuple[str, int]:
    type_name, pk = decode_global_id(value, what=what)
    if type_name not in RESOLVERS:
        raise BadInput(f"{what} is not the ID of any object: {value!r}.", field=what)
    return type_name, pk


async def resolve_nodes(info: Info, ids: Sequence[tuple[str, int]]) -> list[Any | None]:
    """The node of each (type, id), in order; None where not found or not visible."""
    by_resolver: dict[Resolve, list[int]] = {}
    for index, (type_name, _) in enumerate(ids):
        by_resolver.setdefault(RESOLVERS[type_name], []).append(index)
    found: list[Any | None] = [None] * len(ids)
    for resolve, indexes in by_resolver.items():
        values = await resolve(info, [ids[i] for i in indexes])
        for index, value in zip(indexes, values, strict=True):
            found[index] = value
    return found


@strawberry.type
class NodeQueries:
    @strawberry.field(
        description="Any object by its global ID; null if there is none, or the viewer may "
        "not see it (the same rules as the lists)."
    )
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        [found] = await resolve_nodes(info, [_parse(id, what="id")])
        return found

    @strawberry.field(
        description=f"Objects by global ID, in the order asked (at most {MAX_PAGE_SIZE}); null "
        "for each one not found or not visible."
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[relay.Node | None]:
        if len(ids) > MAX_PAGE_SIZE:
            raise BadInput(f"Ask for at most {MAX_PAGE_SIZE} ids at once.", field="ids")
        parsed = [_parse(value, what="ids") for value in ids]
        return await resolve_nodes(info, parsed)
