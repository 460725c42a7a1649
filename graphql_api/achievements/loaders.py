"""Achievements by id, and their rarity by code: one query (two for rarity) per batch."""

from __future__ import annotations

from collections.abc import Mapping

from esports.achievements.models import Achievement
from graphql_api.nodes.loaders import CompiledBatch, ContextLoader, InstancesById
from ledger.selectors import Rarity, achievement_rarity


class AchievementsById(InstancesById[Achievement]):
    instances = CompiledBatch(Achievement.objects.all())


class RarityByCode(ContextLoader[str, Rarity]):
    @classmethod
    def fetch(cls, keys: list[str]) -> Mapping[str, Rarity]:
        return achievement_rarity(codes=keys)
