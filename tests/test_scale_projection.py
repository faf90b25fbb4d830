"""The stage and touchpoint rows follow the answers when stages are renamed, dropped or added
(the projection updates rows in place instead of rebuilding them on every step)."""
from __future__ import annotations

from sqlalchemy import select

from bot.events import Command, Text
from app import Journeys, OwnerKey
from store.models import Journey, Stage, Touchpoint
from devkit.drive import type_lines
from devkit.scripts import B2B_EN


def rows(journeys: Journeys, journey_id: int) -> list[tuple[int, str, list[tuple[int, str, int | None]]]]:
    with journeys.store.sessions() as session:
        stages = session.scalars(select(Stage).where(Stage.journey_id == journey_id).order_by(Stage.position)).all()
        out = []
        for stage in stages:
            tps = session.scalars(select(Touchpoint).where(Touchpoint.stage_id == stage.id).order_by(Touchpoint.position)).all()
            out.append((stage.position, stage.name, [(t.position, t.name, t.feeling) for t in tps]))
        return out


def expected(journeys: Journeys, owner: OwnerKey, journey_id: int) -> list[tuple[int, str, list[tuple[int, str, int | None]]]]:
    view = journeys.view(owner, journey_id)
    return [(s.index, s.name, [(t.index, t.name, t.score) for t in s.touchpoints]) for s in view.stages]


def test_rows_follow_renamed_dropped_and_added_stages(journeys: Journeys) -> None:
    owner = OwnerKey("terminal", "local", "projection")
    type_lines(journeys, owner, B2B_EN)
    journey_id = journeys.store.current_journey_id(owner)
    assert rows(journeys, journey_id) == expected(journeys, owner, journey_id) and rows(journeys, journey_id)
    with journeys.store.sessions() as session:
        stage_count = len(session.get(Journey, journey_id).stages)
    # go back to the stages question and answer it with fewer, renamed stages
    for _ in range(200):
        replies = journeys.handle(owner, Command("back"))
        if replies[-1].step == "journey.stages":
            break
    journeys.handle(owner, Text("Found us, Signed"))
    assert rows(journeys, journey_id) == expected(journeys, owner, journey_id)
    assert len(rows(journeys, journey_id)) == 2 < stage_count
    for _ in range(200):
        replies = journeys.handle(owner, Command("back"))
        if replies[-1].step == "journey.stages":
            break
    journeys.handle(owner, Text("Found us, Signed, Renewed, Told a friend"))
    assert rows(journeys, journey_id) == expected(journeys, owner, journey_id)
    assert [name for _, name, _ in rows(journeys, journey_id)] == ["Found us", "Signed", "Renewed", "Told a friend"]
