"""The questions that answer many at once: a stage's ratings, what goes wrong in it, one team for a
stage or the journey, evidence and delights for all stages; and the fills after touchpoints are named."""
from __future__ import annotations

from typing import Any, Iterable

from bot import texts
from bot.engine import derive
from bot.engine.ratings import RATE_PREFIX, Rated, as_selection, parse_tap, parse_typed, pending
from bot.engine.turn import Turn
from bot.flow import Step, answered_list, is_open, stage_key, touchpoint_key
from bot.vocabulary import DONE, Invalid

SCALE = ("1", "2", "3", "4", "5")


def fill_all(turn: Turn, fills: Iterable[derive.Fill], *, by: str) -> None:
    for key, value, status in list(fills):
        turn.fill(key, value, status, by=by)


def after_recorded(turn: Turn, step: Step) -> None:
    """What an answer to `step` fills for the owner."""
    answers = turn.state.answers
    entry = answers.get(step.key) or {}
    value, status = entry.get("v"), entry.get("s", "ok")
    if step.id == "stage.touchpoints":
        fill_all(turn, derive.after_touchpoints(answers, step.stage_slug), by="inferred")
    elif step.id == "journey.team":
        fill_all(turn, derive.after_journey_team(answers), by="journey")
    elif step.id == "stage.team":
        fill_all(turn, derive.after_stage_team(answers, step.stage_slug, value, status), by="stage")
    elif step.id == "stage.pains":
        fill_all(turn, derive.after_pains(answers, step.stage_slug, str(value) if status == "ok" and value else ""), by="stage")
    elif step.id == "journey.evidence":
        fill_all(turn, derive.after_evidence(answers, value, status), by="journey")
    elif step.id == "stage.ratings" and status != "ok":
        fill_all(turn, ((touchpoint_key(step.stage_slug, n, "touchpoint.feeling"), None, status) for n in range(1, len(touchpoint_names(turn, step)) + 1)), by="stage")
    elif step.id == "journey.delights":
        fill_all(turn, derive.after_delights(answers, str(value) if status == "ok" and value else ""), by="journey")


def stage_teams(turn: Turn, step: Step, raw: str) -> bool:
    """The first stage's team question also takes one team per stage, in order ("marketing, sales,
    service"): every stage named gets its team in this one turn. False when `raw` is not such a list."""
    from bot.engine.answers import match_option, split_items

    items = split_items(raw)
    if len(items) < 2:
        return False
    later = [s for s in turn.plan() if s.id == "stage.team" and s.stage_index >= step.stage_index]
    teams = [match_option(step, item, turn.lang) for item in items]
    if len(items) > len(later) or any(team is None for team in teams):
        return False
    for stage_step, team in zip(later, teams):
        if stage_step is step:
            turn.record(stage_step, raw, team, "ok")
        else:
            turn.fill(stage_step.key, team, by="journey")
        fill_all(turn, derive.after_stage_team(turn.state.answers, stage_step.stage_slug, team, "ok"), by="stage")
    return True


def touchpoint_names(turn: Turn, step: Step) -> list[str]:
    return answered_list(turn.state.answers, stage_key(step.stage_slug, "stage.touchpoints"))


def current_scores(turn: Turn, step: Step) -> dict[int, int]:
    """Ratings shown for a ratings question: the ones given in this turn so far, else stored ones."""
    scores: dict[int, int] = {}
    for n in range(1, len(touchpoint_names(turn, step)) + 1):
        entry = turn.state.answers.get(touchpoint_key(step.stage_slug, n, "touchpoint.feeling")) or {}
        if entry.get("s") == "ok" and entry.get("v") is not None:
            scores[n] = int(entry["v"])
    scores.update(pending(turn.state.selection))
    return scores


def ratings_data(turn: Turn, step: Step) -> dict[str, Any]:
    scores = current_scores(turn, step)
    return {
        "touchpoints": [{"index": n, "name": name, "value": scores.get(n)} for n, name in enumerate(touchpoint_names(turn, step), start=1)],
        "scale": [{"value": v, "label": texts.option_label(turn.lang, "touchpoint.feeling", v)} for v in SCALE],
    }


def ratings_lines(turn: Turn, step: Step) -> list[str]:
    scores = current_scores(turn, step)
    return [
        turn.msg("ratings.line", index=n, touchpoint=name, score=scores.get(n, "·"))
        for n, name in enumerate(touchpoint_names(turn, step), start=1)
    ]


def answer_ratings(turn: Turn, step: Step, raw: str, *, is_choice: bool) -> bool | None:
    """Take a ratings answer. True: recorded; None: partial (ask again); raises Invalid when wrong."""
    names = touchpoint_names(turn, step)
    count = len(names)
    before = pending(turn.state.selection)
    if is_choice and raw.startswith(RATE_PREFIX):
        index, score = parse_tap(raw, count)
        before[index] = score
        turn.state.selection = as_selection(before)
        return None
    if is_choice and raw == DONE:
        rated = Rated(scores={**current_scores(turn, step)}, pain="")
    else:
        rated = parse_typed(raw, count, {**current_scores(turn, step), **before})
    missing = [names[n - 1] for n in range(1, count + 1) if n not in rated.scores]
    if missing:
        turn.state.selection = as_selection(rated.scores)
        raise Invalid("missing", touchpoints=", ".join(missing), count=len(missing))
    turn.record(step, raw, [rated.scores[n] for n in range(1, count + 1)], "ok")
    fill_all(turn, derive.after_ratings(turn.state.answers, step.stage_slug, rated.scores, rated.pain), by="stage")
    return True


def last_ratings_done(turn: Turn, step: Step) -> bool:
    """The map has a feeling everywhere now: `step` rated the last stage still open."""
    return step.id == "stage.ratings" and not any(s.id == "stage.ratings" and is_open(s, turn.state.answers) for s in turn.plan())
