"""Keep the relational read model (business, persona, journey columns, stages, touchpoints) in step
with the answers: only the rows an answer changed are written."""
from __future__ import annotations

from sqlalchemy import Executable, delete, insert, select, update
from sqlalchemy.orm import Session

from store.db import insert_on_conflict
from store.models import Business, Journey, Persona, Stage, Touchpoint
from store.records import RowChanges, StageRow


def row_updates(journey_id: int, rows: RowChanges) -> list[Executable]:
    """Single-row UPDATEs that need nothing read first: they can travel in one batch."""
    statements: list[Executable] = []
    if rows.persona:
        persona_id = select(Journey.persona_id).where(Journey.id == journey_id).scalar_subquery()
        statements.append(update(Persona).where(Persona.id == persona_id).values(**rows.persona))
    for slug, position, columns in rows.touchpoints:
        stage_id = select(Stage.id).where(Stage.journey_id == journey_id, Stage.slug == slug).scalar_subquery()
        statements.append(update(Touchpoint).where(Touchpoint.stage_id == stage_id, Touchpoint.position == position).values(**columns))
    for slug, text in rows.delights:
        statements.append(update(Stage).where(Stage.journey_id == journey_id, Stage.slug == slug).values(delights=text))
    return statements


def apply_business(session: Session, owner_id: int, journey_id: int, name: str, sector: str | None) -> None:
    """The business the journey is about, one row per owner and name (rare: once per journey)."""
    upsert = insert_on_conflict(session)(Business)
    statement = (
        upsert.values(owner_id=owner_id, name=name, sector=sector)
        .on_conflict_do_update(index_elements=[Business.owner_id, Business.name], set_={"sector": sector})
        .returning(Business.id)
    )
    business_id = session.execute(statement).scalar_one()
    session.execute(update(Journey).where(Journey.id == journey_id).values(business_id=business_id))
    persona_id = select(Journey.persona_id).where(Journey.id == journey_id).scalar_subquery()
    session.execute(update(Persona).where(Persona.id == persona_id).values(business_id=business_id))


def replace_stages(session: Session, journey_id: int, stages: list[StageRow]) -> None:
    """Every stage and touchpoint row again, after the list of stages or touchpoints changed (rare)."""
    session.execute(delete(Stage).where(Stage.journey_id == journey_id))
    if not stages:
        return
    stage_ids = session.scalars(
        insert(Stage).returning(Stage.id, sort_by_parameter_order=True),
        [{"journey_id": journey_id, "position": n, "slug": s.slug, "name": s.name, "delights": s.delights} for n, s in enumerate(stages, start=1)],
    ).all()
    touchpoints = [
        {"stage_id": stage_id, "position": n, "name": tp.name, "channel": tp.channel, "feeling": tp.feeling, "pain": tp.pain, "team": tp.team}
        for stage_id, stage in zip(stage_ids, stages)
        for n, tp in enumerate(stage.touchpoints, start=1)
    ]
    if touchpoints:
        session.execute(insert(Touchpoint), touchpoints)
