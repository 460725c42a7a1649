"""Tournaments and matches by id: one query per batch (a match with its tournament)."""

from __future__ import annotations

from collections.abc import Mapping

from esports.tournaments.models import Match, Tournament
from graphql_api.nodes.loaders import ContextLoader


class TournamentsById(ContextLoader[int, Tournament]):
    def fetch(self, keys: list[int]) -> Mapping[int, Tournament]:
        return Tournament.objects.in_bulk(keys)


class MatchesById(ContextLoader[int, Match]):
    """Read with their tournaments: ``match { tournament { name } }`` costs no second query."""

    def fetch(self, keys: list[int]) -> Mapping[int, Match]:
        return Match.objects.select_related("tournament").in_bulk(keys)
