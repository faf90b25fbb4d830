"""What every part of the coach reads: the journey, the owner's language and texts, and small helpers."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

import prompts
from bot.coach.stage_kinds import stage_kind
from bot.journey import Field, JourneyView, StageView, TouchpointView
from bot.knowledge import SECTORS, channel_group
from bot.pains import classify


@dataclass(frozen=True)
class Spot:
    """One touchpoint as the coach sees it: where it sits, how it scores, what goes wrong there."""

    stage: StageView
    tp: TouchpointView
    kind: str  # the stage kind (awareness ... advocacy)
    group: str | None  # the channel group (online, in_person, phone, mail, delivery), None when unknown
    classes: tuple[str, ...]  # pain classes named in the owner's pain, or read from the step's name at a low score
    first: bool
    last: bool

    @property
    def key(self) -> str:
        return f"{self.stage.slug}:{self.tp.index}"

    @property
    def score(self) -> int | None:
        return self.tp.score

    @property
    def outside(self) -> bool:
        return self.tp.team.known and self.tp.team.value == "outside"

    @property
    def handed_over(self) -> bool:
        """A step a partner runs for you (a courier, a supplier, an insurer), not a platform or a friend online."""
        return self.outside and self.group not in ("online", None)


@dataclass
class Context:
    journey: JourneyView
    today: date
    currency: str = "EUR"
    texts: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.texts = prompts.load(self.lang, "coach")

    @property
    def lang(self) -> str:
        return prompts.normalise_language(self.journey.lang)

    def t(self, key: str, **values: Any) -> str:
        node: Any = self.texts
        for part in key.split("."):
            node = node[part]
        if prompts.is_plural(node):
            node = node.get(prompts.plural_form(self.lang, values.get("count", 0)), node["other"])
        values = {k: prompts.number(self.lang, v) for k, v in values.items()}
        return str(node).format(**{"persona": self.persona, "business": self.business, **values})

    def quote(self, text: str, limit: int = 160) -> str:
        text = " ".join(text.split())
        if len(text) > limit:
            text = text[: limit - 1].rstrip() + "…"
        return self.t("quote", text=text)

    def answer(self, key: str) -> str:
        f = self.journey.fields.get(key)
        return f.text if f else ""

    def field(self, key: str) -> Field | None:
        return self.journey.fields.get(key)

    def values(self, key: str) -> list[str]:
        f = self.journey.fields.get(key)
        if not f or not f.known:
            return []
        return [str(v) for v in f.value] if isinstance(f.value, list) else [str(f.value)]

    @property
    def persona(self) -> str:
        return self.journey.persona_name or str(self.texts["fallback_persona"])

    @property
    def business(self) -> str:
        return self.journey.business_name or str(self.texts["fallback_business"])

    @cached_property
    def sector(self) -> str:
        f = self.journey.fields.get("business.sector")
        value = str(f.value) if f and f.known else "other"
        return value if value in SECTORS else "other"

    @cached_property
    def spots(self) -> list[Spot]:
        pairs = self.journey.touchpoints()
        spots = []
        for n, (stage, tp) in enumerate(pairs):
            classes = classify(tp.pain.text, self.lang) if tp.pain else ()
            if not classes and tp.score is not None and tp.score <= 2:
                classes = classify(tp.name, self.lang)  # a low step named for what it is: "Invoice", "Review request"
            channel = str(tp.channel.value) if tp.channel.known else None
            # a courier, an installer's supplier, a bank: a partner whose slip the customer blames on you.
            # An online platform (review or comparison site, social media, a friends' app group) is no partner to manage.
            handed_over = tp.team.known and tp.team.value == "outside" and channel_group(channel) not in ("online", None)
            if handed_over and "partner" not in classes and (classes or (tp.score or 5) <= 3):
                classes = (*classes, "partner")
            spots.append(
                Spot(
                    stage=stage,
                    tp=tp,
                    kind=stage_kind(stage, self.journey.stages),
                    group=channel_group(channel),
                    classes=tuple(classes),
                    first=n == 0,
                    last=n == len(pairs) - 1,
                )
            )
        return spots

    @cached_property
    def scored(self) -> list[Spot]:
        return [s for s in self.spots if s.score is not None]

    def fill(self, text: str, spot: Spot | None = None) -> str:
        """A knowledge text with its placeholders filled: {persona}, {business}, {touchpoint}."""
        return text.format(persona=self.persona, business=self.business, touchpoint=spot.tp.name if spot else "")
