"""Achievements by id: one query per batch."""

from __future__ import annotations

from collections.abc import Mapping

from esports.achievements.models import Achievement
from graphql_api.nodes.loaders import ContextLoader


class AchievementsById(ContextLoader[int, Achievement]):
    @classmethod
    def fetch(cls, keys: list[int]) -> Mapping[int, Achievement]:
        return {row.pk: row for row in Achievement.objects.filter(pk__in=keys)}
