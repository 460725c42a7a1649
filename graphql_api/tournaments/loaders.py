"""Tournaments and matches by id: one query per batch (a match with its tournament)."""

from __future__ import annotations

from collections.abc import Mapping

from esports.tournaments.models import Match, Tournament
from graphql_api.nodes.loaders import CompiledBatch, ContextLoader


class TournamentsById(ContextLoader[int, Tournament]):
    _batch = CompiledBatch(Tournament.objects.all())

    @classmethod
    def fetch(cls, keys: list[int]) -> Mapping[int, Tournament]:
        return cls._batch(keys)


class MatchesById(ContextLoader[int, Match]):
    """Read with their tournaments: ``match { tournament { name } }`` costs no second query."""

    _batch = CompiledBatch(Match.objects.select_related("tournament"))

    @classmethod
    def fetch(cls, keys: list[int]) -> Mapping[int, Match]:
        return cls._batch(keys)
