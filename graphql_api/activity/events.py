"""One concrete GraphQL type per event type, with typed fields (decision 0010).

Each event keeps what it recorded: the names, round and placement it recorded are fields of the
event itself (``tournamentName``, ``round``, ``opponentName`` ...), and the platform's objects
behind it (``tournament``, ``match``, ``opponent``, ``team``, ``achievement``) are linked as they
are now, loaded for the whole page in one query per kind. An object that no longer exists (a
deleted match, an erased opponent) is null; what the event recorded about it stays.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry import Parent
from strawberry.types import Info

from graphql_api.achievements.loaders import AchievementsById
from graphql_api.achievements.types import AchievementNode
from graphql_api.activity.loaders import EventRowsById
from graphql_api.activity.types import ActivityEvent
from graphql_api.activity.visibility import visible_rows
from graphql_api.teams.loaders import TeamsById
from graphql_api.teams.types import TeamNode
from graphql_api.tournaments.loaders import MatchesById, TournamentsById
from graphql_api.tournaments.nodes import MatchNode, TournamentNode
from graphql_api.users.loaders import UsersById
from graphql_api.users.types import UserNode
from ledger.models import EventType
from ledger.selectors import reversed_type

Row = dict[str, Any]


def _id_in(value: Any) -> int | None:
    """A recorded id: an int (JSON has no other kind here); None when absent or scrubbed."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _team_of(metadata: Any) -> dict[str, Any]:
    team = metadata.get("team")
    return team if isinstance(team, dict) else {}


# --- Links from recorded ids to the platform's objects, as they are now ------------------------


async def _tournament(root: Parent[ActivityEvent], info: Info) -> TournamentNode | None:
    pk = _id_in(root.recorded.get("tournament_id"))
    return await TournamentsById.of(info).load(pk) if pk else None  # type: ignore[return-value]


async def _team(root: Parent[ActivityEvent], info: Info) -> TeamNode | None:
    pk = _id_in(root.recorded.get("team_id"))
    return await TeamsById.of(info).load(pk) if pk else None  # type: ignore[return-value]


async def _side_team(root: Parent[ActivityEvent], info: Info) -> TeamNode | None:
    pk = _id_in(_team_of(root.recorded).get("team_id"))
    return await TeamsById.of(info).load(pk) if pk else None  # type: ignore[return-value]


def _side_team_name(root: Parent[ActivityEvent]) -> str | None:
    return _text(_team_of(root.recorded).get("team_name"))


def _tournament_name(root: Parent[ActivityEvent]) -> str | None:
    return _text(root.recorded.get("tournament_name"))


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def _tournament_field() -> Any:
    return strawberry.field(
        resolver=_tournament,
        description="The tournament, as it is now; null if it no longer exists.",
    )


def _side_team_field() -> Any:
    return strawberry.field(
        resolver=_side_team,
        description="The team the player took part with (team tournaments), as it is now; "
        "null for a solo entry or a team that no longer exists.",
    )


def _tournament_name_field() -> Any:
    return strawberry.field(
        resolver=_tournament_name,
        description="The tournament's name when this happened (null only where none was "
        "recorded: coins not tied to a tournament).",
    )


def _side_team_name_field() -> Any:
    return strawberry.field(
        resolver=_side_team_name,
        description="That team's name when this happened; null for a solo entry.",
    )


@strawberry.interface(description="An event of a player's part in a tournament.")
class TournamentEvent(ActivityEvent):
    tournament: TournamentNode | None = _tournament_field()
    team: TeamNode | None = _side_team_field()
    team_name: str | None = _side_team_name_field()

    tournament_name: str | None = _tournament_name_field()

    @strawberry.field(description="The tournament's game when this happened.")
    def game(self) -> str:
        return str(self.recorded["game"])


@strawberry.interface(description="Registered for or checked in to a tournament.")
class TournamentEntryEvent(TournamentEvent):
    @strawberry.field(description="The entry fee (DeltaCoins) when this happened.")
    def entry_fee(self) -> int:
        return int(self.recorded["entry_fee"])


@strawberry.type(description="Registered for a tournament (the registration was confirmed).")
class TournamentRegisteredEvent(TournamentEntryEvent):
    pass


@strawberry.type(description="Checked in to a tournament: took part.")
class TournamentJoinedEvent(TournamentEntryEvent):
    pass


@strawberry.type(description="Took part in a tournament to its end.")
class TournamentCompletedEvent(TournamentEvent):
    @strawberry.field(description="The placement (1 to 4) when it ended; null outside the top 4.")
    def placement(self) -> int | None:
        return _id_in(self.recorded.get("placement"))


@strawberry.interface(description="Placed in a tournament's top 4.")
class TournamentPlacementEvent(TournamentEvent):
    @strawberry.field(description="1, 2, 3 or 4, as recorded (always, for these events).")
    def placement(self) -> int | None:
        return _id_in(self.recorded.get("placement"))


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


async def _match(root: Parent[ActivityEvent], info: Info) -> MatchNode | None:
    pk = _id_in(root.recorded.get("match_id"))
    return await MatchesById.of(info).load(pk) if pk else None  # type: ignore[return-value]


def _opponent_of(metadata: Any) -> dict[str, Any]:
    opponent = metadata.get("opponent")
    return opponent if isinstance(opponent, dict) else {}


async def _opponent(root: Parent[ActivityEvent], info: Info) -> MatchOpponent | None:
    opponent = _opponent_of(root.recorded)
    if opponent.get("kind") == "team":
        team_id = _id_in(opponent.get("team_id"))
        return await TeamsById.of(info).load(team_id) if team_id else None  # type: ignore[return-value]
    user_id = _id_in(opponent.get("user_id"))  # None once the opponent was erased
    return await UsersById.of(info).load(user_id) if user_id else None


@strawberry.interface(description="An event of a match the player took part in.")
class MatchEvent(ActivityEvent):
    match: MatchNode | None = strawberry.field(
        resolver=_match, description="The match, as it is now; null if it no longer exists."
    )
    tournament: TournamentNode | None = _tournament_field()
    opponent: MatchOpponent | None = strawberry.field(
        resolver=_opponent,
        description="The other side, as it is now: a player or a team; null if it no longer "
        "exists or the player was erased.",
    )
    team: TeamNode | None = _side_team_field()
    team_name: str | None = _side_team_name_field()

    tournament_name: str | None = _tournament_name_field()

    @strawberry.field(description="The tournament's game when this happened.")
    def game(self) -> str:
        return str(self.recorded["game"])

    @strawberry.field(description="The match's round when this happened.")
    def round(self) -> int:
        return int(self.recorded["round"])

    @strawberry.field(description="Whether the match was decided by forfeit.")
    def forfeit(self) -> bool:
        return bool(self.recorded["forfeit"])

    @strawberry.field(
        description="The other side's name when this happened ('[erased]' once an opponent "
        "was erased)."
    )
    def opponent_name(self) -> str:
        opponent = _opponent_of(self.recorded)
        name = opponent.get("team_name") or opponent.get("display_name") or opponent["username"]
        return str(name)


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
    tournament: TournamentNode | None = strawberry.field(
        resolver=_tournament,
        description="The tournament the coins were for, as it is now; null if none or it no "
        "longer exists.",
    )

    amount: int = strawberry.field(description="How many DeltaCoins (positive).")

    @strawberry.field(description="Why (winner, runner_up, top4, participation, entry_fee, ...).")
    def reason(self) -> str:
        return str(self.recorded["reason"])

    tournament_name: str | None = _tournament_name_field()


@strawberry.type(description="Earned DeltaCoins.")
class CoinsEarnedEvent(CoinsEvent):
    pass


@strawberry.type(description="Spent DeltaCoins.")
class CoinsSpentEvent(CoinsEvent):
    pass


async def _achievement(root: Parent[ActivityEvent], info: Info) -> AchievementNode | None:
    pk = _id_in(root.recorded.get("achievement_id"))
    return await AchievementsById.of(info).load(pk) if pk else None  # type: ignore[return-value]


@strawberry.type(description="Unlocked an achievement.")
class AchievementUnlockedEvent(ActivityEvent):
    achievement: AchievementNode | None = strawberry.field(
        resolver=_achievement,
        description="The achievement, as it is now; null if it no longer exists.",
    )

    @strawberry.field(description="The achievement's code when it was unlocked.")
    def achievement_code(self) -> str:
        return str(self.recorded["achievement_code"])

    @strawberry.field(description="The achievement's name when it was unlocked.")
    def achievement_name(self) -> str:
        return str(self.recorded["achievement_name"])


@strawberry.interface(description="Created, joined or left a team.")
class TeamEvent(ActivityEvent):
    team: TeamNode | None = strawberry.field(
        resolver=_team, description="The team, as it is now; null if it no longer exists."
    )

    @strawberry.field(description="The team's name when this happened (always recorded here).")
    def team_name(self) -> str | None:
        return _text(self.recorded.get("team_name"))


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
    @strawberry.field(
        description="The event this cancels, if the viewer may see it (the same rules as the feed)."
    )
    async def corrects(self, info: Info) -> ActivityEvent | None:
        row = await EventRowsById.of(info).load(self.corrects_db_id)
        [visible] = await visible_rows(info, [row])
        return event_node(visible) if visible is not None else None

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

EVENT_TYPE_OF_NODE: dict[str, str] = {
    cls.__strawberry_definition__.name: event_type  # type: ignore[attr-defined]
    for event_type, cls in EVENT_TYPES.items()
}
"""A global ID's type name -> the event type it stands for."""


def event_node(row: Row) -> ActivityEvent:
    """A feed row as its concrete type: the columns set once, typed fields left to resolve."""
    event_type = EventType(row["event_type"])
    corrected = reversed_type(row)
    reverses_id = row["reverses_id"]
    return EVENT_TYPES[event_type](
        db_id=row["id"],
        owner_id=row["user_id"],
        loaded_recorded_at=row.get("created_at"),
        event_type=event_type,
        timestamp=row["timestamp"],
        metadata=row["metadata"],
        source_model=row["source_model"],
        source_id=row["source_id"],
        amount=row["amount"],
        corrects_id=strawberry.ID(str(reverses_id)) if reverses_id else None,
        corrects_event_type=EventType(corrected) if corrected else None,
    )
