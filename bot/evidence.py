"""Where an answer comes from, as a traffic light: customer interviews (green), data (amber), gut feeling (red)."""
from __future__ import annotations

from typing import Iterable

from bot.journey import Field, JourneyView

LIGHTS = {"green": "🟢", "amber": "🟠", "red": "🔴", "unknown": "⚪"}


def level(values: Iterable[str] | None) -> str:
    chosen = set(values or ())
    if "interviews" in chosen:
        return "green"
    if "data" in chosen:
        return "amber"
    if "gut" in chosen:
        return "red"
    return "unknown"


def field_level(field: Field | None) -> str:
    if field is None or not field.known or not isinstance(field.value, list):
        return "unknown"
    return level(str(v) for v in field.value)


def surveyed(journey: JourneyView) -> dict[str, int]:
    """Stage slug -> how many customers scored the stage in a survey (pasted, uploaded or at the link)."""
    counts: dict[str, int] = {}
    for row in journey.survey:
        for key in (row.get("scores") or {}):
            counts[str(key)] = counts.get(str(key), 0) + 1
    return counts


def stage_evidence(journey: JourneyView, slug: str) -> Field | None:
    """The stage's evidence answer; customers who scored the stage in a survey count as talking to
    customers (green), whatever the owner answered."""
    field = journey.fields.get(f"stage.{slug}.evidence")
    answers = surveyed(journey).get(slug, 0)
    if not answers:
        return field
    import prompts

    note = prompts.say(journey.lang, "map", "labels.evidence_survey", count=answers)
    values = [v for v in (field.value if field is not None and field.known and isinstance(field.value, list) else []) if v != "interviews"]
    text = f"{field.text}, {note}" if field is not None and field.known and field.text else note
    return Field(key=f"stage.{slug}.evidence", label=field.label if field is not None else "", value=["interviews", *values], text=text, status="ok")


def evidence_items(journey: JourneyView) -> list[tuple[str, Field | None]]:
    """The persona and every stage, each with its evidence answer (a customers' survey included)."""
    items: list[tuple[str, Field | None]] = [(journey.persona_name or "persona", journey.fields.get("persona.source"))]
    for stage in journey.stages:
        items.append((stage.name, stage_evidence(journey, stage.slug)))
    return items


def gut_dominated(journey: JourneyView) -> list[str]:
    """Names of the parts that rest on gut feeling alone, when those are the majority of what is known."""
    known = [(name, field_level(f)) for name, f in evidence_items(journey) if field_level(f) != "unknown"]
    red = [name for name, lvl in known if lvl == "red"]
    return red if known and len(red) * 2 > len(known) else []
