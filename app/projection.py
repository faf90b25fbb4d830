"""What an answer changes in the relational read model (business, persona, journey columns, stages,
touchpoints), computed from the answers themselves: no journey view is built per answer."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from bot.flow import answered_list, stage_key, stage_slugs, touchpoint_key
from store.records import RowChanges, StageRow, TouchpointRow

JOURNEY_COLUMNS = {"journey.goal": "goal", "journey.process": "process", "concept.promise": "promise", "concept.sacrifice": "sacrifice"}
PERSONA_TEXT = {
    "persona.name": "name",
    "persona.role": "role",
    "persona.goals": "goals",
    "persona.pains": "pains",
    "persona.behaviour": "behaviour",
    "persona.trust": "trust",
    "persona.trigger": "trigger",
}
PERSONA_LISTS = {"persona.channels": "channels", "persona.source": "sources"}
TOUCHPOINT_COLUMNS = ("channel", "feeling", "pain", "team")


def _known(entry: Mapping[str, Any] | None) -> Any:
    return entry.get("v") if entry and entry.get("s") == "ok" else None


def _text(entry: Mapping[str, Any] | None) -> str | None:
    value = _known(entry)
    if value is None:
        return None
    return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)


def _values(entry: Mapping[str, Any] | None) -> list[str] | None:
    value = _known(entry)
    if value is None:
        return None
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _feeling(entry: Mapping[str, Any] | None) -> int | None:
    value = _known(entry)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _touchpoint_column(column: str, entry: Mapping[str, Any] | None) -> Any:
    return _feeling(entry) if column == "feeling" else _text(entry)


def stage_rows(answers: Mapping[str, Any]) -> list[StageRow]:
    names = answered_list(answers, "journey.stages")
    rows: list[StageRow] = []
    for slug, name in zip(stage_slugs(names), names):
        touchpoints = [
            TouchpointRow(
                name=tp_name,
                **{c: _touchpoint_column(c, answers.get(touchpoint_key(slug, n, f"touchpoint.{c}"))) for c in TOUCHPOINT_COLUMNS},
            )
            for n, tp_name in enumerate(answered_list(answers, stage_key(slug, "stage.touchpoints")), start=1)
        ]
        rows.append(StageRow(slug=slug, name=name, delights=_text(answers.get(stage_key(slug, "stage.delights"))), touchpoints=touchpoints))
    return rows


def row_changes(answers: Mapping[str, Any], changed: Iterable[str], *, new_journey: bool = False) -> RowChanges:
    changed = set(changed)
    rows = RowChanges()
    for key in changed:
        entry = answers.get(key)
        if key in JOURNEY_COLUMNS:
            rows.journey[JOURNEY_COLUMNS[key]] = _text(entry)
        elif key in PERSONA_TEXT:
            rows.persona[PERSONA_TEXT[key]] = _text(entry)
        elif key in PERSONA_LISTS:
            rows.persona[PERSONA_LISTS[key]] = _values(entry)
    if changed & {"business.name", "business.sector"}:
        name = _text(answers.get("business.name"))
        if name:
            rows.business = (name, _text(answers.get("business.sector")))
    shape_changed = "journey.stages" in changed or any(k.startswith("stage.") and k.endswith(".touchpoints") for k in changed)
    if shape_changed or (new_journey and any(k.startswith("stage.") for k in changed)):
        rows.stages = stage_rows(answers)
        return rows
    # one UPDATE per row: PostgreSQL applies a batch as one statement, where a row may change only once
    touchpoints: dict[tuple[str, int], dict[str, Any]] = {}
    for key in sorted(changed):
        parts = key.split(".")
        if len(parts) == 4 and parts[0] == "stage" and parts[2].startswith("tp") and parts[2][2:].isdigit() and parts[3] in TOUCHPOINT_COLUMNS:
            touchpoints.setdefault((parts[1], int(parts[2][2:])), {})[parts[3]] = _touchpoint_column(parts[3], answers.get(key))
        elif len(parts) == 3 and parts[0] == "stage" and parts[2] == "delights":
            rows.delights.append((parts[1], _text(answers.get(key))))
    rows.touchpoints = [(slug, position, columns) for (slug, position), columns in touchpoints.items()]
    return rows
