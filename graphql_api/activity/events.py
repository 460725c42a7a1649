"""One concrete GraphQL type per event type, with typed fields (decision 0010).

Each event keeps what it recorded: the names, round and placement it recorded are fields of the
event itself (``tournamentName``, ``round``, ``opponentName`` ...), and the platform's objects
behind it (``tournament``, ``match``, ``opponent``, ``team``, ``achievement``) are linked as they
are now, loaded for the whole page in one query per kind. An object that no longer exists (a
deleted match, an erased opponent) is null; what the event recorded about it stays.

What an event recorded is read into plain attributes when the event is built (a few dict reads),
and its links are plain attributes too, filled for the fields a query selects by ``links.py`` in
the trip that found the events (each class's ``LINKS`` says which loader and id each link
reads): graphql-core resolves them without a resolver call each. Measured in bench/ (the typed
page): a resolver per field costs strawberry an ``Info`` object and its extension chain, and a
DataLoader per link a future and a task; together they were most of the page's time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, ClassVar

import strawberry
from strawberry.types import Info

from graphql_api.achievements.loaders import AchievementsById
from graphql_api.achievements.types import AchievementNode
from graphql_api.activity.links import Link, LinkKey, Wanted, load_links
from graphql_api.activity.loaders import EventRowsById
from graphql_api.activity.types import ActivityEvent
from graphql_api.activity.visibility import visible_rows
from graphql_api.context import viewer_of
from graphql_api.nodes.ids import global_id
from graphql_api.nodes.loaders import thread_of
from graphql_api.teams.loaders import TeamsById
from graphql_api.teams.types import TeamNode
from graphql_api.tournaments.loaders import MatchesById, TournamentsById
from graphql_api.tournaments.nodes import MatchNode, TournamentNode
from graphql_api.users.loaders import UsersById
from graphql_api.users.types import UserNode
from ledger.models import EventType
from ledger.selectors import reversed_type

Row = dict[str, Any]
Recorded = Mapping[str, Any]


def _id_in(value: Any) -> int | None:
    """A recorded id: a positive int (JSON has no other kind here); None when absent or scrubbed."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dict(value: Any) -> Recorded:
    return value if isinstance(value, dict) else {}


# --- Links from recorded ids to the platform's objects, as they are now ------------------------


def _tournament_key(event: ActivityEvent) -> LinkKey:
    return TournamentsById, _id_in(event.recorded.get("tournament_id"))


def _side_team_key(event: ActivityEvent) -> LinkKey:
    return TeamsById, _id_in(_dict(event.recorded.get("team")).get("team_id"))


def _link_field(description: str) -> Any:
    """A link: a plain attribute, None until ``load_links`` fills it for a query that asks."""
    return strawberry.field(default=None, description=description)


SIDE_TEAM_NOW = (
    "The team the player took part with (team tournaments), as it is now; null for a solo "
    "entry or a team that no longer exists."
)
TOURNAMENT_NOW = "The tournament, as it is now; null if it no longer exists."
TOURNAMENT_NAME = "The tournament's name when this happened."
GAME = "The tournament's game when this happened."
SIDE_TEAM_NAME = "That team's name when this happened; null for a solo entry."


def _in_tournament(metadata: Recorded) -> dict[str, Any]:
    """What tournament and match events recorded of the tournament and the player's side."""
    return {
        "tournament_name": _text(metadata.get("tournament_name")),
        "game": _text(metadata.get("game")),
        "team_name": _text(_dict(metadata.get("team")).get("team_name")),
    }


@strawberry.interface(description="An event of a player's part in a tournament.")
class TournamentEvent(ActivityEvent):
    LINKS: ClassVar[dict[str, Link]] = {
        **ActivityEvent.LINKS,
        "tournament": Link("tournament", _tournament_key),
        "team": Link("team", _side_team_key),
    }
    tournament: TournamentNode | None = _link_field(TOURNAMENT_NOW)
    team: TeamNode | None = _link_field(SIDE_TEAM_NOW)
    tournament_name: str | None = strawberry.field(description=TOURNAMENT_NAME)
    game: str = strawberry.field(description=GAME)
    team_name: str | None = strawberry.field(description=SIDE_TEAM_NAME)

    @classmethod
    def recorded_fields(cls, metadata: Recorded) -> dict[str, Any]:
        return _in_tournament(metadata)


@strawberry.interface(description="Registered for or checked in to a tournament.")
class TournamentEntryEvent(TournamentEvent):
    entry_fee: int = strawberry.field(description="The entry fee (DeltaCoins) when this happened.")

    @classmethod
    def recorded_fields(cls, metadata: Recorded) -> dict[str, Any]:
        return {**_in_tournament(metadata), "entry_fee": _int(metadata.get("entry_fee"))}


@strawberry.type(description="Registered for a tournament (the registration was confirmed).")
class TournamentRegisteredEvent(TournamentEntryEvent):
    pass


@strawberry.type(description="Checked in to a tournament: took part.")
class TournamentJoinedEvent(TournamentEntryEvent):
    pass


@strawberry.type(description="Took part in a tournament to its end.")
class TournamentCompletedEvent(TournamentEvent):
    placement: int | None = strawberry.field(
        description="The placement (1 to 4) when it ended; null outside the top 4."
    )

    @classmethod
    def recorded_fields(cls, metadata: Recorded) -> dict[str, Any]:
        return {**_in_tournament(metadata), "placement": _id_in(metadata.get("placement"))}


@strawberry.interface(description="Placed in a tournament's top 4.")
class TournamentPlacementEvent(TournamentEvent):
    placement: int | None = strawberry.field(
        description="1, 2, 3 or 4, as recorded (always, for these events)."
    )

    @classmethod
    def recorded_fields(cls, metadata: Recorded) -> dict[str, Any]:
        return {**_in_tournament(metadata), "placement": _id_in(metadata.get("placement"))}


@strawberry.type(description="Won a tournament (1st place).")
class TournamentWonEvent(TournamentPlacementEvent):
    pass


@strawberry.type(description="Runner-up in a tournament (2nd place).")
class TournamentRunnerUpEvent(TournamentPlacementEvent):
    pass


@strawberry.type(description="Placed 3rd or 4th in a tournament.")
class TournamentTop4Event(TournamentPlacementEvent):
    pass


# --- Matches ----------------------------------------------------------------------------------

MatchOpponent = Annotated[
    UserNode | TeamNode,
    strawberry.union("MatchOpponent", description="Who a match was against: a player or a team."),
]


def _match_key(event: ActivityEvent) -> LinkKey:
    return MatchesById, _id_in(event.recorded.get("match_id"))


def _opponent_key(event: ActivityEvent) -> LinkKey:
    opponent = _dict(event.recorded.get("opponent"))
    if opponent.get("kind") == "team":
        return TeamsById, _id_in(opponent.get("team_id"))
    # None once the opponent was erased (their id is scrubbed from every event naming them).
    return UsersById, _id_in(opponent.get("user_id"))


@strawberry.interface(description="An event of a match the player took part in.")
class MatchEvent(ActivityEvent):
    LINKS: ClassVar[dict[str, Link]] = {
        **ActivityEvent.LINKS,
        "match": Link("match", _match_key),
        "tournament": Link("tournament", _tournament_key),
        "opponent": Link("opponent", _opponent_key),
        "team": Link("team", _side_team_key),
    }
    match: MatchNode | None = _link_field("The match, as it is now; null if it no longer exists.")
    tournament: TournamentNode | None = _link_field(TOURNAMENT_NOW)
    opponent: MatchOpponent | None = _link_field(
        "The other side, as it is now: a player or a team; null if it no longer exists or the "
        "player was erased."
    )
    team: TeamNode | None = _link_field(SIDE_TEAM_NOW)
    tournament_name: str | None = strawberry.field(description=TOURNAMENT_NAME)
    game: str = strawberry.field(description=GAME)
    team_name: str | None = strawberry.field(description=SIDE_TEAM_NAME)
    round: int = strawberry.field(description="The match's round when this happened.")
    forfeit: bool = strawberry.field(description="Whether the match was decided by forfeit.")
    opponent_name: str = strawberry.field(
        description="The other side's name when this happened ('[erased]' once an opponent "
        "was erased)."
    )

    @classmethod
    def recorded_fields(cls, metadata: Recorded) -> dict[str, Any]:
        opponent = _dict(metadata.get("opponent"))
        forfeit = metadata.get("forfeit")
        return {
            **_in_tournament(metadata),
            "round": _int(metadata.get("round")),
            "forfeit": forfeit if isinstance(forfeit, bool) else None,
            "opponent_name": _text(
                opponent.get("team_name")
                or opponent.get("display_name")
                or opponent.get("username")
            ),
        }


@strawberry.type(description="Played a match (recorded for both sides, forfeits included).")
class MatchPlayedEvent(MatchEvent):
    pass


@strawberry.type(description="Won a match.")
class MatchWonEvent(MatchEvent):
    pass


@strawberry.type(description="Lost a match.")
class MatchLostEvent(MatchEvent):
    pass


# --- Coins, achievements, teams ---------------------------------------------------------------


@strawberry.interface(
    description="DeltaCoins earned or spent: visible to the player and staff only."
)
class CoinsEvent(ActivityEvent):
    LINKS: ClassVar[dict[str, Link]] = {
        **ActivityEvent.LINKS,
        "tournament": Link("tournament", _tournament_key),
    }
    tournament: TournamentNode | None = _link_field(
        "The tournament the coins were for, as it is now; null if none or it no longer exists."
    )
    amount: int = strawberry.field(description="How many DeltaCoins (positive).")
    reason: str = strawberry.field(
        description="Why (winner, runner_up, top4, participation, entry_fee, ...)."
    )
    tournament_name: str | None = strawberry.field(
        description="The tournament's name when this happened; null if none."
    )

    @classmethod
    def recorded_fields(cls, metadata: Recorded) -> dict[str, Any]:
        return {
            "reason": _text(metadata.get("reason")),
            "tournament_name": _text(metadata.get("tournament_name")),
        }


@strawberry.type(description="Earned DeltaCoins.")
class CoinsEarnedEvent(CoinsEvent):
    pass


@strawberry.type(description="Spent DeltaCoins.")
class CoinsSpentEvent(CoinsEvent):
    pass


def _achievement_key(event: ActivityEvent) -> LinkKey:
    return AchievementsById, _id_in(event.recorded.get("achievement_id"))


@strawberry.type(description="Unlocked an achievement.")
class AchievementUnlockedEvent(ActivityEvent):
    LINKS: ClassVar[dict[str, Link]] = {
        **ActivityEvent.LINKS,
        "achievement": Link("achievement", _achievement_key),
    }
    achievement: AchievementNode | None = _link_field(
        "The achievement, as it is now; null if it no longer exists."
    )
    achievement_code: str = strawberry.field(
        description="The achievement's code when it was unlocked."
    )
    achievement_name: str = strawberry.field(
        description="The achievement's name when it was unlocked."
    )

    @classmethod
    def recorded_fields(cls, metadata: Recorded) -> dict[str, Any]:
        return {
            "achievement_code": _text(metadata.get("achievement_code")),
            "achievement_name": _text(metadata.get("achievement_name")),
        }


def _team_key(event: ActivityEvent) -> LinkKey:
    return TeamsById, _id_in(event.recorded.get("team_id"))


@strawberry.interface(description="Created, joined or left a team.")
class TeamEvent(ActivityEvent):
    LINKS: ClassVar[dict[str, Link]] = {**ActivityEvent.LINKS, "team": Link("team", _team_key)}
    team: TeamNode | None = _link_field("The team, as it is now; null if it no longer exists.")
    team_name: str | None = strawberry.field(
        description="The team's name when this happened (always recorded here)."
    )

    @classmethod
    def recorded_fields(cls, metadata: Recorded) -> dict[str, Any]:
        return {"team_name": _text(metadata.get("team_name"))}


@strawberry.type(description="Created a team (its creator is also its first member).")
class TeamCreatedEvent(TeamEvent):
    pass


@strawberry.type(description="Joined a team.")
class TeamJoinedEvent(TeamEvent):
    pass


@strawberry.type(description="Left a team.")
class TeamLeftEvent(TeamEvent):
    pass


# --- Corrections ------------------------------------------------------------------------------


@strawberry.type(
    description="A correction: cancels an earlier event of the same player (a corrected "
    "result, a no-show after check-in); history is never edited."
)
class CorrectionEvent(ActivityEvent):
    corrects: ActivityEvent | None = _link_field(
        "The event this cancels, if the viewer may see it (the same rules as the feed)."
    )

    @strawberry.field(description="The type of the event this cancels.")
    async def corrected_event_type(self, info: Info) -> EventType:
        if self.corrects_event_type is not None:
            return self.corrects_event_type
        row = await EventRowsById.of(info).load(self.corrects_db_id)
        assert row is not None, "a correction's target is protected from deletion"
        return EventType(row["event_type"])

    @property
    def corrects_db_id(self) -> int:
        return int(self.corrects_id or 0)


EVENT_TYPES: dict[str, type[ActivityEvent]] = {
    EventType.TOURNAMENT_REGISTERED: TournamentRegisteredEvent,
    EventType.TOURNAMENT_JOINED: TournamentJoinedEvent,
    EventType.TOURNAMENT_COMPLETED: TournamentCompletedEvent,
    EventType.TOURNAMENT_WON: TournamentWonEvent,
    EventType.TOURNAMENT_RUNNER_UP: TournamentRunnerUpEvent,
    EventType.TOURNAMENT_TOP4: TournamentTop4Event,
    EventType.MATCH_PLAYED: MatchPlayedEvent,
    EventType.MATCH_WON: MatchWonEvent,
    EventType.MATCH_LOST: MatchLostEvent,
    EventType.COINS_EARNED: CoinsEarnedEvent,
    EventType.COINS_SPENT: CoinsSpentEvent,
    EventType.ACHIEVEMENT_UNLOCKED: AchievementUnlockedEvent,
    EventType.TEAM_CREATED: TeamCreatedEvent,
    EventType.TEAM_JOINED: TeamJoinedEvent,
    EventType.TEAM_LEFT: TeamLeftEvent,
    EventType.REVERSAL: CorrectionEvent,
}
"""Every event type has its concrete GraphQL type (a test checks none is missing)."""

_NAMES: dict[str, str] = {
    event_type: cls.__strawberry_definition__.name  # type: ignore[attr-defined]
    for event_type, cls in EVENT_TYPES.items()
}
EVENT_TYPE_OF_NODE: dict[str, str] = {name: event_type for event_type, name in _NAMES.items()}
"""A global ID's type name -> the event type it stands for."""


def linked_events(
    rows: Sequence[Row | None], *, viewer: Any, wanted: Wanted, check_visibility: bool
) -> list[ActivityEvent | None]:
    """``rows`` as events (None where the viewer may not see one, when checked), with the
    links the query asks for, and corrections with the events they cancel: each kind of
    object in one query. On Django's thread, in the trip that read the rows."""
    shown = visible_rows(viewer, rows) if check_visibility else list(rows)
    events = [event_node(row) if row is not None else None for row in shown]
    present = [event for event in events if event is not None]
    load_links(present, wanted.fields)
    corrections = [event for event in present if isinstance(event, CorrectionEvent)]
    if wanted.corrects is not None and corrections:
        found = EventRowsById.fetch(sorted({event.corrects_db_id for event in corrections}))
        targets = linked_events(
            [found.get(event.corrects_db_id) for event in corrections],
            viewer=viewer,
            wanted=wanted.corrects,
            check_visibility=True,  # the same rules as the feed, target by target
        )
        for correction, target in zip(corrections, targets, strict=True):
            correction.corrects = target
    return events


READS = frozenset({name for cls in EVENT_TYPES.values() for name in cls.LINKS} | {"corrects"})
"""The fields of events that read other rows: the links, and a correction's target."""


async def events_for(
    info: Info, rows: Sequence[Row | None], wanted: Wanted, *, check_visibility: bool
) -> list[ActivityEvent | None]:
    """``linked_events`` from a resolver: one trip to Django's thread, none when there is
    nothing to check or read."""
    if not check_visibility and not wanted.fields & READS:
        return [event_node(row) if row is not None else None for row in rows]
    return await thread_of(info)(linked_events)(
        rows, viewer=viewer_of(info), wanted=wanted, check_visibility=check_visibility
    )


def event_node(row: Row) -> ActivityEvent:
    """A feed row as its concrete type: every column and recorded field set once; its links
    (and when it was recorded, unless the row says) are left for ``linked_events`` to fill."""
    event_type = row["event_type"]
    cls = EVENT_TYPES[event_type]
    metadata = row["metadata"]
    corrected = reversed_type(row)
    reverses_id = row["reverses_id"]
    return cls(
        _id=strawberry.ID(global_id(_NAMES[event_type], row["id"])),
        db_id=row["id"],
        owner_id=row["user_id"],
        loaded_recorded_at=row.get("created_at"),
        event_type=EventType(event_type),
        timestamp=row["timestamp"],
        metadata=metadata,
        source_model=row["source_model"],
        source_id=row["source_id"],
        amount=row["amount"],
        corrects_id=strawberry.ID(str(reverses_id)) if reverses_id else None,
        corrects_event_type=EventType(corrected) if corrected else None,
        **cls.recorded_fields(_dict(metadata)),
    )
