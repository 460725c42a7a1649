"""Tournaments and matches by id: one query per batch (a match with its tournament)."""

from __future__ import annotations

from collections.abc import Mapping

from esports.tournaments.models import Match, Tournament
from graphql_api.nodes.loaders import ContextLoader


class TournamentsById(ContextLoader[int, Tournament]):
    @classmethod
    def fetch(cls, keys: list[int]) -> Mapping[int, Tournament]:
        return {row.pk: row for row in Tournament.objects.filter(pk__in=keys)}


class MatchesById(ContextLoader[int, Match]):
    """Read with their tournaments: ``match { tournament { name } }`` costs no second query."""

    @classmethod
    def fetch(cls, keys: list[int]) -> Mapping[int, Match]:
        return {
            row.pk: row for row in Match.objects.select_related("tournament").filter(pk__in=keys)
        }
