"""Achievement: the platform's achievement as a Relay node (public), with its rarity."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry import Parent, relay
from strawberry.types import Info

from esports.achievements.models import Achievement
from graphql_api.achievements.loaders import RarityByCode
from graphql_api.nodes.fields import platform_node
from ledger.selectors import Rarity


@strawberry.enum(
    description="How rare an achievement is by the share of players who hold it: under 5% "
    "ULTRA_RARE, under 10% VERY_RARE, under 20% RARE, under 50% UNCOMMON, else COMMON."
)
class AchievementRarity(Enum):
    ULTRA_RARE = "ultra_rare"
    VERY_RARE = "very_rare"
    RARE = "rare"
    UNCOMMON = "uncommon"
    COMMON = "common"


async def _rarity(info: Info, code: str) -> Rarity:
    rarity = await RarityByCode.of(info).load(code)
    assert rarity is not None, "every code reads a rarity (0 holders without a row)"
    return rarity


@platform_node(
    Achievement, name="Achievement", description="An achievement as the platform has it now."
)
class AchievementNode(relay.Node):
    code: str
    name: str
    description: str

    @strawberry.field(description="Players who hold it (erased players not counted).")
    async def holders(self, root: Parent[Achievement], info: Info) -> int:
        return (await _rarity(info, root.code)).holders

    @strawberry.field(
        description="The share of players with stats who hold it, 0 to 100 (0 with no players)."
    )
    async def unlocked_percent(self, root: Parent[Achievement], info: Info) -> float:
        return (await _rarity(info, root.code)).percent

    @strawberry.field
    async def rarity(self, root: Parent[Achievement], info: Info) -> AchievementRarity:
        return AchievementRarity((await _rarity(info, root.code)).tier)
