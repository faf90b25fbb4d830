"""What changed between two versions of a journey: feelings up or down, touchpoints added or removed, to-dos done."""
from __future__ import annotations

import prompts
from bot.journey import JourneyView, build_view
from bot.report_sections import long_date


def changes(journey: JourneyView) -> list[str]:
    previous = journey.previous
    if previous is None:
        return []
    t = prompts.load(journey.lang, "coach")["changes"]
    old = build_view(previous.answers, journey.lang)
    lines: list[str] = [str(t["since"]).format(number=previous.number, date=long_date(previous.created, journey.lang))]

    def index(view: JourneyView) -> dict[tuple[str, str], int | None]:
        return {(stage.name.casefold(), tp.name.casefold()): tp.score for stage, tp in view.touchpoints()}

    def names(view: JourneyView) -> dict[tuple[str, str], tuple[str, str]]:
        return {(stage.name.casefold(), tp.name.casefold()): (stage.name, tp.name) for stage, tp in view.touchpoints()}

    before, after = index(old), index(journey)
    shown_before, shown_after = names(old), names(journey)
    body: list[str] = []
    for key, score in after.items():
        stage, name = shown_after[key]
        if key not in before:
            body.append(str(t["added"]).format(touchpoint=name, stage=stage))
        elif before[key] is not None and score is not None and before[key] != score:
            arrow = "▲" if score > before[key] else "▼"  # type: ignore[operator]
            body.append(str(t["feeling"]).format(touchpoint=name, stage=stage, old=before[key], new=score, arrow=arrow))
    for key in before:
        if key not in after:
            stage, name = shown_before[key]
            body.append(str(t["removed"]).format(touchpoint=name, stage=stage))
    for todo in journey.todos:
        if todo.status == "done" and previous.todos.get(todo.key) != "done":
            body.append(str(t["done"]).format(title=todo.title))
    return lines + (body or [str(t["none"])])
