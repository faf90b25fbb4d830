"""Keep the relational rows (business, persona, journey columns, stages, touchpoints) in step with the answers."""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm import Session

from bot.journey import Field, JourneyView
from store.models import Business, Journey, Persona, Stage, Touchpoint


def _text(field: Field | None) -> str | None:
    return field.text if field is not None and field.known else None


def _code(field: Field | None) -> str | None:
    """A choice as its language-neutral option value (or the owner's own words for 'other')."""
    return str(field.value) if field is not None and field.known and field.value is not None else None


def _values(field: Field | None) -> list[str] | None:
    if field is None or not field.known:
        return None
    return [str(v) for v in field.value] if isinstance(field.value, list) else [str(field.value)]


def project(session: Session, journey: Journey, view: JourneyView, changed: Iterable[str]) -> None:
    changed = set(changed)
    fields = view.fields
    journey.title = view.title
    journey.lang = view.lang
    journey.goal = _text(fields.get("journey.goal"))
    journey.process = _text(fields.get("journey.process"))
    journey.promise = _text(fields.get("concept.promise"))
    journey.sacrifice = _text(fields.get("concept.sacrifice"))
    if changed & {"business.name", "business.sector"}:
        _project_business(session, journey, view)
    if any(key.startswith("persona.") for key in changed) or journey.persona_id is None:
        _project_persona(session, journey, view)
    stage_keys = {key for key in changed if key == "journey.stages" or key.startswith("stage.")}
    if stage_keys and not _update_in_place(session, journey, view, stage_keys):
        _project_stages(session, journey, view)


def _update_in_place(session: Session, journey: Journey, view: JourneyView, keys: set[str]) -> bool:
    """Answers about one touchpoint or one stage's delights change one row with one UPDATE.

    Returns False when the shape changed (stages or touchpoint lists) or a row is missing, so the
    caller brings every stage and touchpoint in line instead.
    """
    if journey.id is None or any(key == "journey.stages" or key.endswith(".touchpoints") for key in keys):
        return False
    stages = {stage.slug: stage for stage in view.stages}
    for key in keys:
        parts = key.split(".")
        stage_view = stages.get(parts[1]) if len(parts) >= 3 else None
        if stage_view is None:
            return False
        stage_id = select(Stage.id).where(Stage.journey_id == journey.id, Stage.slug == stage_view.slug).scalar_subquery()
        if len(parts) == 4 and parts[2].startswith("tp") and parts[2][2:].isdigit():
            index = int(parts[2][2:])
            if not 1 <= index <= len(stage_view.touchpoints):
                return False
            tp = stage_view.touchpoints[index - 1]
            statement = (
                update(Touchpoint)
                .where(Touchpoint.stage_id == stage_id, Touchpoint.position == index)
                .values(channel=_code(tp.channel), feeling=tp.score, pain=_text(tp.pain), team=_code(tp.team))
            )
        elif len(parts) == 3 and parts[2] == "delights":
            statement = update(Stage).where(Stage.id == stage_id).values(delights=_text(stage_view.delights))
        elif len(parts) == 3:
            continue  # a stage-level answer without a column of its own (evidence)
        else:
            return False
        if session.execute(statement.execution_options(synchronize_session=False)).rowcount != 1:
            return False
    return True


def _project_business(session: Session, journey: Journey, view: JourneyView) -> None:
    name = _text(view.fields.get("business.name"))
    if not name:
        return
    business = session.scalar(select(Business).where(Business.owner_id == journey.owner_id, Business.name == name))
    if business is None:
        business = Business(owner_id=journey.owner_id, name=name)
        session.add(business)
        session.flush()
    business.sector = _code(view.fields.get("business.sector"))
    journey.business_id = business.id


def _project_persona(session: Session, journey: Journey, view: JourneyView) -> None:
    f = view.fields
    persona = session.get(Persona, journey.persona_id) if journey.persona_id else None
    if persona is None:
        persona = Persona(owner_id=journey.owner_id)
        session.add(persona)
    persona.business_id = journey.business_id
    persona.name = _text(f.get("persona.name"))
    persona.role = _text(f.get("persona.role"))
    persona.goals = _text(f.get("persona.goals"))
    persona.pains = _text(f.get("persona.pains"))
    persona.behaviour = _text(f.get("persona.behaviour"))
    persona.channels = _values(f.get("persona.channels"))
    persona.trust = _text(f.get("persona.trust"))
    persona.trigger = _text(f.get("persona.trigger"))
    persona.sources = _values(f.get("persona.source"))
    session.flush()
    journey.persona_id = persona.id


def _project_stages(session: Session, journey: Journey, view: JourneyView) -> None:
    """Bring the stage and touchpoint rows in line with the answers, in place: a step changes a
    row or two instead of deleting and inserting every stage and touchpoint again."""
    preloaded: list[Stage] = []
    if journey.id is not None:
        # one query for every stage's touchpoints instead of one lazy load per stage; the list keeps
        # the loaded rows alive in the session's (weak) identity map while journey.stages is read
        preloaded = session.scalars(
            select(Stage).where(Stage.journey_id == journey.id).options(selectinload(Stage.touchpoints))
        ).all()
    stages = list(journey.stages)
    del preloaded
    for index, stage_view in enumerate(view.stages):
        if index < len(stages):
            stage = stages[index]
        else:
            stage = Stage()
            journey.stages.append(stage)
        _assign(stage, position=stage_view.index, slug=stage_view.slug, name=stage_view.name, delights=_text(stage_view.delights))
        touchpoints = list(stage.touchpoints) if stage.id is not None else []
        for tp_index, tp in enumerate(stage_view.touchpoints):
            if tp_index < len(touchpoints):
                row = touchpoints[tp_index]
            else:
                row = Touchpoint()
                stage.touchpoints.append(row)
            _assign(row, position=tp.index, name=tp.name, channel=_code(tp.channel), feeling=tp.score, pain=_text(tp.pain), team=_code(tp.team))
        for extra in touchpoints[len(stage_view.touchpoints) :]:
            stage.touchpoints.remove(extra)
    for extra in stages[len(view.stages) :]:
        journey.stages.remove(extra)


def _assign(row: object, **values: object) -> None:
    for name, value in values.items():
        if getattr(row, name, None) != value:
            setattr(row, name, value)
