"""The interview flow: step templates from prompts/flow.yaml, expanded into a concrete plan.

A template such as `touchpoint.feeling` becomes one step per touchpoint, keyed
`stage.<slug>.tp<n>.feeling`. The plan is derived from the answers every time,
so renaming, dropping or adding stages and touchpoints reshapes it naturally.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator, Mapping

import prompts

KINDS = ("short_text", "long_text", "single_choice", "multi_choice", "scale", "list", "ratings")
SCALE = ("1", "2", "3", "4", "5")


@dataclass(frozen=True)
class StepTemplate:
    id: str
    kind: str
    section: str
    optional: bool = False
    other: bool = False
    options: tuple[str, ...] = ()
    default: tuple[str, ...] = ()
    sharpen: bool = False
    covers: str | None = None  # the template this step answers for all touchpoints (or stages) at once
    asked: bool = True  # False: never asked, filled by the step that covers it


@dataclass(frozen=True)
class Step:
    """One concrete question in the plan."""

    key: str
    template: StepTemplate
    stage_index: int = 0  # 1-based, 0 outside the stage part
    stage_count: int = 0
    stage_slug: str = ""
    stage_name: str = ""
    touchpoint_index: int = 0  # 1-based, 0 for stage-level steps
    touchpoint_name: str = ""

    @property
    def id(self) -> str:
        return self.template.id

    @property
    def kind(self) -> str:
        return self.template.kind

    @property
    def optional(self) -> bool:
        return self.template.optional


@dataclass(frozen=True)
class Flow:
    version: int
    limits: Mapping[str, int]
    head: tuple[StepTemplate, ...]  # asked once, before the stages
    stage_steps: tuple[StepTemplate, ...]  # before the touchpoints of a stage
    touchpoint_steps: tuple[StepTemplate, ...]
    stage_tail: tuple[StepTemplate, ...]  # after the touchpoints of a stage
    tail: tuple[StepTemplate, ...] = ()  # asked once, after all stages

    def template(self, template_id: str) -> StepTemplate:
        for t in self.head + self.stage_steps + self.touchpoint_steps + self.stage_tail + self.tail:
            if t.id == template_id:
                return t
        raise KeyError(template_id)


def _template(raw: Mapping[str, Any]) -> StepTemplate:
    kind = raw["kind"]
    if kind not in KINDS:
        raise ValueError(f"unknown step kind {kind!r} in flow step {raw.get('id')!r}")
    options = tuple(str(o) for o in raw.get("options", ()))
    if kind == "scale":
        options = SCALE
    return StepTemplate(
        id=raw["id"],
        kind=kind,
        section=raw.get("section", "intro"),
        optional=bool(raw.get("optional", False)),
        other=bool(raw.get("other", False)),
        options=options,
        default=tuple(str(d) for d in raw.get("default", ())),
        sharpen=bool(raw.get("sharpen", False)),
        covers=raw.get("covers"),
        asked=bool(raw.get("asked", True)),
    )


def parse_flow(raw: Mapping[str, Any]) -> Flow:
    head: list[StepTemplate] = []
    stage_steps: list[StepTemplate] = []
    touchpoint_steps: list[StepTemplate] = []
    stage_tail: list[StepTemplate] = []
    tail: list[StepTemplate] = []
    seen_stages = False
    for item in raw["steps"]:
        if item.get("repeat") == "stage":
            seen_touchpoints = False
            for inner in item["steps"]:
                if inner.get("repeat") == "touchpoint":
                    touchpoint_steps.extend(_template(s) for s in inner["steps"])
                    seen_touchpoints = True
                elif seen_touchpoints:
                    stage_tail.append(_template(inner))
                else:
                    stage_steps.append(_template(inner))
            seen_stages = True
        elif seen_stages:
            tail.append(_template(item))
        else:
            head.append(_template(item))
    return Flow(
        version=int(raw.get("version", 1)),
        limits=dict(raw.get("limits", {})),
        head=tuple(head),
        stage_steps=tuple(stage_steps),
        touchpoint_steps=tuple(touchpoint_steps),
        stage_tail=tuple(stage_tail),
        tail=tuple(tail),
    )


@lru_cache(maxsize=1)
def default_flow() -> Flow:
    return parse_flow(prompts.data("flow.yaml"))


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40]


def stage_slugs(names: list[str]) -> list[str]:
    """Stable, unique slugs for stage names; names without letters get their position."""
    slugs: list[str] = []
    for index, name in enumerate(names, start=1):
        slug = slugify(name) or f"stage{index}"
        base, n = slug, 2
        while slug in slugs:
            slug, n = f"{base}-{n}", n + 1
        slugs.append(slug)
    return slugs


def answered_list(answers: Mapping[str, Any], key: str) -> list[str]:
    entry = answers.get(key)
    if not entry or entry.get("s") != "ok" or not isinstance(entry.get("v"), list):
        return []
    return [str(v) for v in entry["v"]]


def plan(flow: Flow, answers: Mapping[str, Any]) -> list[Step]:
    return list(iter_plan(flow, answers))


def iter_plan(flow: Flow, answers: Mapping[str, Any]) -> Iterator[Step]:
    for t in flow.head:
        yield Step(key=t.id, template=t)
    names = answered_list(answers, "journey.stages")
    slugs = stage_slugs(names)
    count = len(names)
    for index, (slug, name) in enumerate(zip(slugs, names), start=1):
        stage: dict[str, Any] = dict(stage_index=index, stage_count=count, stage_slug=slug, stage_name=name)
        for t in flow.stage_steps:
            yield Step(key=stage_key(slug, t.id), template=t, **stage)
        touchpoints = answered_list(answers, stage_key(slug, "stage.touchpoints"))
        for tp_index, tp_name in enumerate(touchpoints, start=1):
            for t in flow.touchpoint_steps:
                yield Step(
                    key=touchpoint_key(slug, tp_index, t.id),
                    template=t,
                    touchpoint_index=tp_index,
                    touchpoint_name=tp_name,
                    **stage,
                )
        for t in flow.stage_tail:
            yield Step(key=stage_key(slug, t.id), template=t, **stage)
    if names:
        for t in flow.tail:
            yield Step(key=t.id, template=t)


def covered_keys(step: Step, answers: Mapping[str, Any]) -> list[str] | None:
    """The answer keys a covering step fills, or None while they are not known yet (the stages or a
    stage's touchpoints are still to be named)."""
    covers = step.template.covers
    if covers is None:
        return []
    names = answered_list(answers, "journey.stages")
    if "journey.stages" not in answers:
        return None
    slugs = stage_slugs(names)
    if step.stage_slug:
        slugs = [step.stage_slug]
    if covers.startswith("stage."):
        return [stage_key(slug, covers) for slug in slugs]
    keys: list[str] = []
    for slug in slugs:
        touchpoints_key = stage_key(slug, "stage.touchpoints")
        if touchpoints_key not in answers:
            return None
        keys += [touchpoint_key(slug, n, covers) for n in range(1, len(answered_list(answers, touchpoints_key)) + 1)]
    return keys


def is_done(step: Step, answers: Mapping[str, Any]) -> bool:
    """Answered, or (for a covering step) everything it covers is answered, however that happened."""
    if step.key in answers:
        return True
    keys = covered_keys(step, answers) if step.template.covers else None
    return keys is not None and step.template.covers is not None and all(key in answers for key in keys)


def is_open(step: Step, answers: Mapping[str, Any]) -> bool:
    """A question still to ask."""
    return step.template.asked and not is_done(step, answers)


def questions_to_ask(steps: list[Step], answers: Mapping[str, Any]) -> list[Step]:
    """The questions the owner will still be asked, in plan order: open, not answered later for the
    whole stage or journey at once, and not a stage's team when one team was given for the journey."""
    open_steps = [step for step in steps if is_open(step, answers)]
    # (covered template, stage) of every covering question still open; "" covers every stage
    covering = {(step.template.covers, step.stage_slug) for step in open_steps if step.template.covers}
    team_per_stage = (answers.get("journey.team") or {}).get("v") == "per_stage"
    return [
        step
        for step in open_steps
        if (step.id, "") not in covering
        and (step.id, step.stage_slug) not in covering
        and (step.id != "stage.team" or team_per_stage)
    ]


def field_name(template_id: str) -> str:
    return template_id.split(".", 1)[1]


def stage_key(slug: str, template_id: str) -> str:
    return f"stage.{slug}.{field_name(template_id)}"


def touchpoint_key(slug: str, tp_index: int, template_id: str) -> str:
    return f"stage.{slug}.tp{tp_index}.{field_name(template_id)}"
