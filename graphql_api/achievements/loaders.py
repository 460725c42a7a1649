"""Achievements by id: one query per batch."""

from __future__ import annotations

from collections.abc import Mapping

from esports.achievements.models import Achievement
from graphql_api.nodes.loaders import ContextLoader


class AchievementsById(ContextLoader[int, Achievement]):
    def fetch(self, keys: list[int]) -> Mapping[int, Achievement]:
        return Achievement.objects.in_bulk(keys)
