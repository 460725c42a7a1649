"""Tournaments and matches by id: one query per batch (a match with its tournament)."""

from __future__ import annotations

from esports.tournaments.models import Match, Tournament
from graphql_api.nodes.loaders import CompiledBatch, InstancesById


class TournamentsById(InstancesById[Tournament]):
    instances = CompiledBatch(Tournament.objects.all())


class MatchesById(InstancesById[Match]):
    """Read with their tournaments: ``match { tournament { name } }`` costs no second query."""

    instances = CompiledBatch(Match.objects.select_related("tournament"))
