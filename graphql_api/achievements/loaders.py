"""Achievements by id: one query per batch."""

from __future__ import annotations

from collections.abc import Mapping

from esports.achievements.models import Achievement
from graphql_api.nodes.loaders import CompiledBatch, ContextLoader


class AchievementsById(ContextLoader[int, Achievement]):
    _batch = CompiledBatch(Achievement.objects.all())

    @classmethod
    def fetch(cls, keys: list[int]) -> Mapping[int, Achievement]:
        return cls._batch(keys)
