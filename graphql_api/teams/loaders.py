"""Teams and their current members by team id: one query per batch."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from esports.teams.models import Team, TeamMembership
from graphql_api.nodes.loaders import CompiledBatch, ContextLoader, InstancesById


class TeamsById(InstancesById[Team]):
    instances = CompiledBatch(Team.objects.all())


class CurrentMembersByTeamId(ContextLoader[int, list[Any]]):
    """Who is on each team now (memberships not ended), earliest joined first, with profiles."""

    @classmethod
    def fetch(cls, keys: list[int]) -> Mapping[int, list[Any]]:
        members: dict[int, list[Any]] = defaultdict(list)
        memberships = (
            TeamMembership.objects.filter(team_id__in=keys, left_at__isnull=True)
            .select_related("user__profile")
            .order_by("joined_at", "id")
        )
        for membership in memberships:
            members[membership.team_id].append(membership.user)
        return {key: members.get(key, []) for key in keys}
