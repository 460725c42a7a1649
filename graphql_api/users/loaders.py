"""Users, their profiles' visibility and their stats, by user id: one query per batch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model

from graphql_api.nodes.loaders import CompiledBatch, ContextLoader, InstancesById
from ledger.selectors import GameStats, games_by_user, stats_by_user


class UsersById(InstancesById[Any]):
    """Users with their profiles (the profile is read with every user shown)."""

    instances = CompiledBatch(get_user_model().objects.select_related("profile"))


def activity_public_by_user(keys: list[int]) -> dict[int, bool]:
    """Whether each existing user's activity is public, in one query; a user without a profile
    row is private (as ``graphql_api.context.load_subject`` reads it); an unknown id is absent."""
    users = get_user_model().objects.filter(pk__in=keys)
    rows = users.values_list("pk", "profile__activity_public")
    return {pk: bool(public) for pk, public in rows}


class StatsByUserId(ContextLoader[int, dict[str, Any]]):
    """Lifetime stats (public) with the derived rates, as ``ledger.selectors.user_stats`` reads
    one user's: a user without a stats row reads zeros."""

    @classmethod
    def fetch(cls, keys: list[int]) -> Mapping[int, dict[str, Any]]:
        return stats_by_user(user_ids=keys)


class GamesByUserId(ContextLoader[int, list[GameStats]]):
    """Per-game stats (public), each player's games by name."""

    @classmethod
    def fetch(cls, keys: list[int]) -> Mapping[int, list[GameStats]]:
        return games_by_user(user_ids=keys)
