"""A typed, read-only view of one journey, built from its answers. Input of coach, export and chart."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from bot import texts
from bot.flow import Flow, default_flow, plan, stage_key, stage_slugs, questions_to_ask, touchpoint_key


@dataclass(frozen=True)
class Field:
    """One answer as the owner gave it: `value` is the raw stored value, `text` its readable form."""

    key: str
    label: str
    value: Any
    text: str
    status: str  # ok, unknown, skipped, missing

    @property
    def known(self) -> bool:
        return self.status == "ok"

    def __bool__(self) -> bool:
        return self.known and bool(self.text)


@dataclass(frozen=True)
class TouchpointView:
    index: int
    name: str
    channel: Field
    feeling: Field
    pain: Field
    team: Field

    @property
    def score(self) -> int | None:
        return int(self.feeling.value) if self.feeling.known else None


@dataclass(frozen=True)
class StageView:
    index: int
    slug: str
    name: str
    touchpoints: list[TouchpointView]
    delights: Field


@dataclass(frozen=True)
class PreviousVersion:
    """The version a summary compares with: its answers and the to-do states of that moment."""

    number: int
    created: str  # ISO date
    answers: Mapping[str, Any]
    todos: Mapping[str, str]  # to-do key -> status


@dataclass(frozen=True)
class TodoItem:
    id: int
    key: str
    kind: str  # improvement or wow
    title: str
    status: str  # open, planned, done, dropped


@dataclass(frozen=True)
class JourneyView:
    id: int | None
    lang: str
    answers: Mapping[str, Any]
    fields: Mapping[str, Field]
    stages: list[StageView]
    missing: list[str] = field(default_factory=list)
    title: str = ""
    version: int = 0  # the newest saved version, 0 before the interview was first completed
    previous: PreviousVersion | None = None
    todos: tuple[TodoItem, ...] = ()
    survey: tuple[Mapping[str, Any], ...] = ()  # customers' survey answers: {"scores": {...}, "comment": ...}

    def get(self, key: str) -> Field:
        return self.fields[key]

    @property
    def persona_name(self) -> str:
        return self.fields["persona.name"].text if self.fields["persona.name"] else ""

    @property
    def business_name(self) -> str:
        return self.fields["business.name"].text if self.fields["business.name"] else ""

    def touchpoints(self) -> list[tuple[StageView, TouchpointView]]:
        return [(stage, tp) for stage in self.stages for tp in stage.touchpoints]


def title_of(lang: str, answers: Mapping[str, Any]) -> str:
    """A journey's title: the business and persona names, or "untitled" before either is known."""
    business = texts.answer_text(answers, "business.name")
    persona = texts.answer_text(answers, "persona.name")
    parts = [p for p in (business, persona) if p]
    return " – ".join(parts) if parts else texts.message(lang, "untitled")


def _field(lang: str, template_id: str, key: str, label: str, answers: Mapping[str, Any]) -> Field:
    entry = answers.get(key)
    status = entry.get("s", "ok") if entry else "missing"
    return Field(
        key=key,
        label=label,
        value=entry.get("v") if entry else None,
        text=texts.display_value(lang, template_id, entry) if status == "ok" else "",
        status=status,
    )


def build_view(
    answers: Mapping[str, Any], lang: str, journey_id: int | None = None, flow: Flow | None = None, **extras: Any
) -> JourneyView:
    flow = flow or default_flow()
    steps = plan(flow, answers)
    fields: dict[str, Field] = {}
    for step in steps:
        label = texts.step_label(lang, step, answers)
        fields[step.key] = _field(lang, step.id, step.key, label, answers)
    stages: list[StageView] = []
    stage_field = fields.get("journey.stages")
    names = [str(n) for n in stage_field.value] if stage_field and stage_field.known else []
    for index, (slug, name) in enumerate(zip(stage_slugs(names), names), start=1):
        tp_field = fields[stage_key(slug, "stage.touchpoints")]
        tp_names = [str(n) for n in tp_field.value] if tp_field.known else []
        touchpoints = [
            TouchpointView(
                index=i,
                name=tp_name,
                channel=fields[touchpoint_key(slug, i, "touchpoint.channel")],
                feeling=fields[touchpoint_key(slug, i, "touchpoint.feeling")],
                pain=fields[touchpoint_key(slug, i, "touchpoint.pain")],
                team=fields[touchpoint_key(slug, i, "touchpoint.team")],
            )
            for i, tp_name in enumerate(tp_names, start=1)
        ]
        stages.append(
            StageView(index=index, slug=slug, name=name, touchpoints=touchpoints, delights=fields[stage_key(slug, "stage.delights")])
        )
    missing = [fields[s.key].label for s in questions_to_ask(steps, answers)]
    return JourneyView(
        id=journey_id,
        lang=lang,
        answers=answers,
        fields=fields,
        stages=stages,
        missing=missing,
        title=title_of(lang, answers),
        **extras,
    )
