"""What the coach knows, as data: remedies per pain class and WOW ideas, per language.

The files live in prompts/<lang>/remedies.yaml and prompts/<lang>/wow.yaml; this module only
types and checks them (pydantic), so a wrong entry fails loudly in the tests, not in a summary.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

import prompts

PAIN_CLASSES = (
    "waiting",
    "price",
    "information",
    "booking",
    "payment",
    "response",
    "follow_up",
    "social_proof",
    "quality",
    "partner",
    "access",
    "attention",
    "digital",
)
STAGE_KINDS = ("awareness", "consideration", "purchase", "delivery", "loyalty", "advocacy")
SECTORS = ("bakery", "salon", "webshop", "trades", "b2b", "other")
CHANNEL_GROUPS = ("online", "in_person", "phone", "mail", "delivery")
PHYSICAL_GROUPS = frozenset({"in_person", "delivery"})
# touchpoint.channel option -> channel group
CHANNEL_GROUP_OF = {
    "website": "online",
    "social": "online",
    "review_site": "online",
    "comparison_site": "online",
    "ad": "online",
    "whatsapp": "online",
    "shop": "in_person",
    "in_person": "in_person",
    "phone": "phone",
    "email": "mail",
    "invoice": "mail",
    "courier": "delivery",
}

Effort = Literal["low", "medium", "high"]
Per = Literal["once", "month", "order", "customer", "year"]
PainClass = Literal[PAIN_CLASSES]  # type: ignore[valid-type]
StageKind = Literal[STAGE_KINDS]  # type: ignore[valid-type]
Sector = Literal[SECTORS]  # type: ignore[valid-type]
ChannelGroup = Literal[CHANNEL_GROUPS]  # type: ignore[valid-type]
Anchor = Literal["trigger", "goal", "trust", "pains", "delights", "none"]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    sectors: tuple[Sector, ...] = ()  # empty: fits every sector
    stages: tuple[StageKind, ...] = ()  # empty: fits every stage kind
    effort: Effort
    cost: tuple[int, int] = Field(description="money from..to in the operator's currency; (0, 0) = none")
    per: Per = "once"
    time: str = Field(min_length=3, description="the owner's time, short, in the file's language")

    @field_validator("cost")
    @classmethod
    def _ordered(cls, cost: tuple[int, int]) -> tuple[int, int]:
        if not 0 <= cost[0] <= cost[1]:
            raise ValueError("cost must be [min, max] with 0 <= min <= max")
        return cost


class Remedy(_Entry):
    classes: tuple[PainClass, ...] = Field(min_length=1)
    channels: tuple[ChannelGroup, ...] = ()  # empty: fits every channel group
    do: str = Field(min_length=20, description="what to do this month, as an instruction")
    why: str = Field(min_length=20, description="why it works, tied to the method")


class WowIdea(_Entry):
    channels: tuple[ChannelGroup, ...] = Field(min_length=1)
    physical: bool = False
    builds_on: Anchor = "none"
    idea: str = Field(min_length=20)
    why: str = Field(min_length=20)

    @model_validator(mode="after")
    def _physical_in_person(self) -> "WowIdea":
        if self.physical and not set(self.channels) <= PHYSICAL_GROUPS:
            raise ValueError(f"{self.id}: a physical gesture fits only {sorted(PHYSICAL_GROUPS)}")
        return self


class _RemedyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    remedies: list[Remedy]


class _WowFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ideas: list[WowIdea]


@lru_cache(maxsize=None)
def remedies(lang: str) -> tuple[Remedy, ...]:
    return tuple(_RemedyFile.model_validate(prompts.load(lang, "remedies")).remedies)


@lru_cache(maxsize=None)
def wow_ideas(lang: str) -> tuple[WowIdea, ...]:
    return tuple(_WowFile.model_validate(prompts.load(lang, "wow")).ideas)


def channel_group(channel: str | None) -> str | None:
    return CHANNEL_GROUP_OF.get(channel or "")
