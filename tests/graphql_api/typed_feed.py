"""A typed feed as a client reads it (a fragment on each concrete type), and what each event's
typed fields must be, worked out from the row the ledger recorded and the platform's rows now.

Shared by the in-process tests and the third-party client test: the expectation is written
from the data (metadata, models), never from the API's own code.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from esports.achievements.models import Achievement
from esports.teams.models import Team
from esports.tournaments.models import Match, Tournament
from ledger.models import EventType, UserActivity
from tests.graphql_api.conftest import global_id as gid

TOURNAMENT_FIELDS = """tournamentName game teamName tournament { id name game } team { id name }"""
MATCH_FIELDS = """tournamentName game teamName round forfeit opponentName
  match { id round tournament { id name } } tournament { id name game } team { id name }
  opponent { __typename ... on User { id username } ... on Team { id name } }"""
COINS_FIELDS = "amount reason tournamentName tournament { id name game }"
TEAM_FIELDS = "teamName team { id name }"

CONCRETE: dict[str, tuple[str, str]] = {
    # concrete type: (event type, its typed fields)
    "TournamentRegisteredEvent": ("TOURNAMENT_REGISTERED", f"{TOURNAMENT_FIELDS} entryFee"),
    "TournamentJoinedEvent": ("TOURNAMENT_JOINED", f"{TOURNAMENT_FIELDS} entryFee"),
    "TournamentCompletedEvent": ("TOURNAMENT_COMPLETED", f"{TOURNAMENT_FIELDS} placement"),
    "TournamentWonEvent": ("TOURNAMENT_WON", f"{TOURNAMENT_FIELDS} placement"),
    "TournamentRunnerUpEvent": ("TOURNAMENT_RUNNER_UP", f"{TOURNAMENT_FIELDS} placement"),
    "TournamentTop4Event": ("TOURNAMENT_TOP4", f"{TOURNAMENT_FIELDS} placement"),
    "MatchPlayedEvent": ("MATCH_PLAYED", MATCH_FIELDS),
    "MatchWonEvent": ("MATCH_WON", MATCH_FIELDS),
    "MatchLostEvent": ("MATCH_LOST", MATCH_FIELDS),
    "CoinsEarnedEvent": ("COINS_EARNED", COINS_FIELDS),
    "CoinsSpentEvent": ("COINS_SPENT", COINS_FIELDS),
    "AchievementUnlockedEvent": (
        "ACHIEVEMENT_UNLOCKED",
        "achievementCode achievementName achievement { id code name }",
    ),
    "TeamCreatedEvent": ("TEAM_CREATED", TEAM_FIELDS),
    "TeamJoinedEvent": ("TEAM_JOINED", TEAM_FIELDS),
    "TeamLeftEvent": ("TEAM_LEFT", TEAM_FIELDS),
    "CorrectionEvent": ("REVERSAL", "correctedEventType corrects { __typename id }"),
}

EVENT_FIELDS = "__typename id eventType timestamp recordedAt player { id username }\n" + "\n".join(
    f"  ... on {name} {{ {fields} }}" for name, (_, fields) in CONCRETE.items()
)

TYPED_FEED = f"""query TypedFeed($userId: ID, $first: Int, $after: String) {{
  activityFeed(userId: $userId, first: $first, after: $after) {{
    edges {{ cursor node {{ {EVENT_FIELDS} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""

TYPE_NAME = {event_type: name for name, (event_type, _) in CONCRETE.items()}


def event_gid(event: UserActivity) -> str:
    return gid(TYPE_NAME[event.event_type.upper()], event.pk)


def _tournament(pk: Any, *, full: bool = True) -> dict[str, Any] | None:
    found = Tournament.objects.filter(pk=pk).first() if pk else None
    if found is None:
        return None
    if not full:
        return {"id": gid("Tournament", found.pk), "name": found.name}
    return {"id": gid("Tournament", found.pk), "name": found.name, "game": found.game}


def _team(pk: Any) -> dict[str, Any] | None:
    found = Team.objects.filter(pk=pk).first() if pk else None
    return {"id": gid("Team", found.pk), "name": found.name} if found else None


def _opponent(side: dict[str, Any]) -> dict[str, Any] | None:
    if side.get("kind") == "team":
        team = _team(side.get("team_id"))
        return {"__typename": "Team", **team} if team else None
    user_id = side.get("user_id")  # None once the opponent was erased
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    if user is None:
        return None
    return {"__typename": "User", "id": gid("User", user.pk), "username": user.username}


def _match(pk: Any) -> dict[str, Any] | None:
    found = Match.objects.filter(pk=pk).first() if pk else None
    if found is None:
        return None
    return {
        "id": gid("Match", found.pk),
        "round": found.round,
        "tournament": _tournament(found.tournament_id, full=False),
    }


def _achievement(pk: Any) -> dict[str, Any] | None:
    found = Achievement.objects.filter(pk=pk).first() if pk else None
    if found is None:
        return None
    return {"id": gid("Achievement", found.pk), "code": found.code, "name": found.name}


def expected_node(event: UserActivity) -> dict[str, Any]:
    """The node a typed feed must show for ``event``: its recorded data, its objects as now."""
    meta = event.metadata
    owner = event.user
    node: dict[str, Any] = {
        "__typename": TYPE_NAME[event.event_type.upper()],
        "id": gid(TYPE_NAME[event.event_type.upper()], event.pk),
        "eventType": event.event_type.upper(),
        "timestamp": event.timestamp.isoformat(),
        "recordedAt": event.created_at.isoformat(),
        "player": {"id": gid("User", owner.pk), "username": owner.username} if owner else None,
    }
    side = meta.get("team") or {}
    if event.event_type.startswith("tournament_"):
        node |= {
            "tournamentName": meta["tournament_name"],
            "game": meta["game"],
            "teamName": side.get("team_name"),
            "tournament": _tournament(meta["tournament_id"]),
            "team": _team(side.get("team_id")),
        }
        if event.event_type in (EventType.TOURNAMENT_REGISTERED, EventType.TOURNAMENT_JOINED):
            node["entryFee"] = meta["entry_fee"]
        else:
            node["placement"] = meta.get("placement")
    elif event.event_type.startswith("match_"):
        opponent = meta["opponent"]
        node |= {
            "tournamentName": meta["tournament_name"],
            "game": meta["game"],
            "teamName": side.get("team_name"),
            "round": meta["round"],
            "forfeit": meta["forfeit"],
            "opponentName": opponent.get("team_name") or opponent.get("display_name"),
            "match": _match(meta["match_id"]),
            "tournament": _tournament(meta["tournament_id"]),
            "team": _team(side.get("team_id")),
            "opponent": _opponent(opponent),
        }
    elif event.event_type.startswith("coins_"):
        node |= {
            "amount": meta["amount"],
            "reason": meta["reason"],
            "tournamentName": meta.get("tournament_name"),
            "tournament": _tournament(meta.get("tournament_id")),
        }
    elif event.event_type == EventType.ACHIEVEMENT_UNLOCKED:
        node |= {
            "achievementCode": meta["achievement_code"],
            "achievementName": meta["achievement_name"],
            "achievement": _achievement(meta["achievement_id"]),
        }
    elif event.event_type.startswith("team_"):
        node |= {"teamName": meta["team_name"], "team": _team(meta["team_id"])}
    else:
        cancelled = event.reverses
        assert cancelled is not None
        node |= {
            "correctedEventType": meta["reverses"]["event_type"].upper(),
            "corrects": {
                "__typename": TYPE_NAME[cancelled.event_type.upper()],
                "id": gid(TYPE_NAME[cancelled.event_type.upper()], cancelled.pk),
            },
        }
    return node
