"""The journey map as one neutral model: what every map format (picture, PDF, page, sheet) draws.

Stages across; per stage its touchpoints with channel, feeling (1..5), pain and team, what already
delights, the evidence light, and the top improvements and WOW ideas placed on the touchpoint they
belong to (or on the stage when they name no touchpoint). The persona goes in a side panel. Every
text is the owner's own or comes from prompts/<lang>/map.yaml; renderers add no words of their own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import prompts
from bot.evidence import field_level, stage_evidence
from bot.journey import JourneyView
from bot.report import Report

TOP_IMPROVEMENTS = 5  # the report's cards are ranked; a map shows the first few
TOP_WOWS = 6
PERSONA_FIELDS = ("persona.role", "persona.goals", "persona.pains", "persona.behaviour", "persona.channels", "persona.trust", "persona.trigger")
SEPARATOR = " › "  # how the report names a touchpoint: "stage › touchpoint"


@dataclass(frozen=True)
class MapTouchpoint:
    name: str
    channel: str = ""  # in the owner's language; "" when unknown
    feeling: int | None = None  # the owner's 1..5
    pain: str = ""
    team: str = ""
    improvements: tuple[str, ...] = ()  # titles of the improvement cards about this touchpoint
    wows: tuple[str, ...] = ()  # WOW ideas that happen here


@dataclass(frozen=True)
class MapStage:
    name: str
    touchpoints: tuple[MapTouchpoint, ...]
    delights: str = ""
    evidence: str = "unknown"  # green (customer interviews), amber (data), red (gut feeling), unknown
    customers: float | None = None  # the customers' average 1..5 for the stage, from survey answers
    responses: int = 0  # how many customers gave the stage a score
    improvements: tuple[str, ...] = ()  # cards about the stage as a whole
    wows: tuple[str, ...] = ()


@dataclass(frozen=True)
class JourneyMap:
    lang: str
    title: str
    business: str
    persona_name: str
    persona: tuple[tuple[str, str], ...]  # (label, text) lines for the side panel
    persona_evidence: str
    stages: tuple[MapStage, ...]
    labels: Mapping[str, str] = field(default_factory=dict)  # lane names and captions, prompts/<lang>/map.yaml
    review_date: str = ""  # ISO date, "" when none

    def touchpoints(self) -> list[tuple[MapStage, MapTouchpoint]]:
        return [(s, t) for s in self.stages for t in s.touchpoints]

    def label(self, key: str) -> str:
        return str(self.labels.get(key, key))


def labels(lang: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in (prompts.load(lang, "map").get("labels") or {}).items()}


def _known(value: object) -> bool:
    return bool(getattr(value, "known", False))


def build_map(view: JourneyView, report: Report | None = None) -> JourneyMap:
    lang = view.lang if view.lang in prompts.LANGUAGES else prompts.DEFAULT_LANGUAGE
    placed: dict[tuple[str, str], dict[str, list[str]]] = {}
    by_stage: dict[str, dict[str, list[str]]] = {}

    def place(where: str, stage_hint: str, kind: str, text: str) -> None:
        stage, _, touchpoint = where.partition(SEPARATOR)
        stage = (stage or stage_hint).strip()
        if touchpoint.strip():
            placed.setdefault((stage.casefold(), touchpoint.strip().casefold()), {}).setdefault(kind, []).append(text)
        elif stage:
            by_stage.setdefault(stage.casefold(), {}).setdefault(kind, []).append(text)

    if report is not None:
        names = {stage.name for stage in view.stages}
        for card in report.improvements[:TOP_IMPROVEMENTS]:
            place(card.touchpoint, card.step if card.step in names else "", "improvements", card.title)
        for wow in report.wow_moments[:TOP_WOWS]:
            place(wow.touchpoint, wow.stage, "wows", wow.idea)

    stages: list[MapStage] = []
    for stage in view.stages:
        touchpoints = []
        for tp in stage.touchpoints:
            here = placed.pop((stage.name.casefold(), tp.name.casefold()), {})
            touchpoints.append(
                MapTouchpoint(
                    name=tp.name,
                    channel=tp.channel.text if _known(tp.channel) else "",
                    feeling=tp.score,
                    pain=tp.pain.text if _known(tp.pain) else "",
                    team=tp.team.text if _known(tp.team) else "",
                    improvements=tuple(here.get("improvements", ())),
                    wows=tuple(here.get("wows", ())),
                )
            )
        whole = by_stage.pop(stage.name.casefold(), {})
        customers, responses = _customers(view, stage.slug)
        stages.append(
            MapStage(
                name=stage.name,
                touchpoints=tuple(touchpoints),
                delights=stage.delights.text if _known(stage.delights) else "",
                evidence=field_level(stage_evidence(view, stage.slug)),
                customers=customers,
                responses=responses,
                improvements=tuple(whole.get("improvements", ())),
                wows=tuple(whole.get("wows", ())),
            )
        )
    persona = tuple(
        (view.fields[key].label, view.fields[key].text) for key in PERSONA_FIELDS if key in view.fields and view.fields[key].known
    )
    return JourneyMap(
        lang=lang,
        title=view.title,
        business=view.business_name,
        persona_name=view.persona_name,
        persona=persona,
        persona_evidence=field_level(view.fields.get("persona.source")),
        stages=tuple(stages),
        labels=labels(lang),
        review_date=report.review_date if report is not None else "",
    )


def _customers(view: JourneyView, slug: str) -> tuple[float | None, int]:
    """The customers' average score for a stage and how many gave one (survey answers are per stage)."""
    scores = [(r.get("scores") or {}).get(slug) for r in view.survey]
    numbers = [float(s) for s in scores if isinstance(s, (int, float)) and 1 <= s <= 5]
    return (round(sum(numbers) / len(numbers), 1), len(numbers)) if numbers else (None, 0)
