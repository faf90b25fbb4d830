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


def evidence_items(journey: JourneyView) -> list[tuple[str, Field | None]]:
    """The persona and every stage, each with its evidence answer."""
    items: list[tuple[str, Field | None]] = [(journey.persona_name or "persona", journey.fields.get("persona.source"))]
    for stage in journey.stages:
        items.append((stage.name, journey.fields.get(f"stage.{stage.slug}.evidence")))
    return items


def gut_dominated(journey: JourneyView) -> list[str]:
    """Names of the parts that rest on gut feeling alone, when those are the majority of what is known."""
    known = [(name, field_level(f)) for name, f in evidence_items(journey) if field_level(f) != "unknown"]
    red = [name for name, lvl in known if lvl == "red"]
    return red if known and len(red) * 2 > len(known) else []
