"""Asking: the current question with its choices and progress, the questions outside the flow
(language, forget, review, survey) and moving on after an answer."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from bot import texts
from bot.engine.answers import Unsure, hold, is_vague, parse, settled
from bot.engine.effects import JourneyCompleted, ReadDescription, SaveVersion
from bot.engine.turn import Turn
from bot.engine.derive import DESCRIBED, read_description
from bot.engine.progress import count
from bot.engine.stage_steps import after_recorded, answer_ratings, last_ratings_done, ratings_data, ratings_lines, stage_teams
from bot.flow import Step, is_open
from bot.replies import Option, Progress
from bot.templates import proposed_touchpoints, sector_template
from bot.vocabulary import DONE, DONT_KNOW, INVALID, KEEP, SKIP, Invalid, is_control, matches_word


@dataclass(frozen=True)
class OpenQuestion:
    """A question outside the flow, named by `State.pending`: how to ask it and take its answer."""

    ask: Callable[[Turn], None]
    answer: Callable[[Turn, str, bool], None]  # (turn, raw, is_choice)
    button_step: Callable[[Turn], str | None]  # the step a button must name to answer it; None: not by button
    needs: frozenset[str]


OPEN_QUESTIONS: dict[str, OpenQuestion] = {}


def open_question(
    name: str,
    *,
    ask: Callable[[Turn], None],
    answer: Callable[[Turn, str, bool], None],
    button_step: Callable[[Turn], str | None] = lambda turn: None,
    needs: Iterable[str] = (),
) -> None:
    OPEN_QUESTIONS[name] = OpenQuestion(ask=ask, answer=answer, button_step=button_step, needs=frozenset(needs))


def show_question(turn: Turn) -> None:
    """Ask what is open: a question outside the flow, else the current step (nothing while paused or complete)."""
    state = turn.state
    if state.paused:
        return
    if state.pending in OPEN_QUESTIONS:
        OPEN_QUESTIONS[state.pending].ask(turn)
        return
    step = turn.current()
    if step is None:
        return
    state.cursor = step.key
    proposal = proposals(turn, step)
    lines = [texts.question_text(turn.lang, step, state.answers, proposal=", ".join(proposal or []))]
    if proposal and step.id != "journey.stages":
        keep = turn.msg("use_suggestion")
        lines.append(turn.msg("suggestion", sector=sector_label(turn), items=", ".join(proposal), keep=keep))
    entry = state.answers.get(step.key)
    if entry:
        lines.append(turn.msg("current_answer", answer=texts.display_value(turn.lang, step.id, entry)))
    if step.kind == "multi_choice" and state.selection:
        chosen = ", ".join(texts.option_label(turn.lang, step.id, v) for v in state.selection)
        lines.append(turn.msg("selected", selected=chosen))
    data: dict[str, Any] = {"selected": list(state.selection)} if step.kind == "multi_choice" else {}
    if step.kind == "ratings":
        lines[1:1] = ratings_lines(turn, step)
        data = ratings_data(turn, step)
    turn.say(
        "question",
        "\n".join(lines),
        step=step.key,
        kind=step.kind,
        choices=choices(turn, step),
        progress=progress(turn, step),
        data=data,
    )


def choices(turn: Turn, step: Step) -> tuple[Option, ...]:
    opts: list[Option] = []
    if step.kind in ("single_choice", "multi_choice", "scale"):
        opts = [Option(v, texts.option_label(turn.lang, step.id, v)) for v in step.template.options]
    if step.kind in ("multi_choice", "ratings"):
        opts.append(Option(DONE, turn.msg("buttons.done")))
    if step.kind == "list" and proposals(turn, step):
        label = texts.questions(turn.lang)[step.id].get("keep") or turn.msg("use_suggestion")
        opts.append(Option(KEEP, str(label)))
    if step.id != "journey.stages":
        opts.append(Option(DONT_KNOW, turn.msg("buttons.dont_know")))
    if step.optional:
        opts.append(Option(SKIP, turn.msg("buttons.skip")))
    return tuple(opts)


def progress(turn: Turn, step: Step | None) -> Progress:
    answered, total = count(turn.ctx.flow, turn.state.answers, turn.plan())
    return Progress(
        section=step.template.section if step else "stage",
        stage_index=step.stage_index if step else 0,
        stage_count=step.stage_count if step else 0,
        stage_name=step.stage_name if step else "",
        answered=answered,
        total=total,
    )


def sector(turn: Turn) -> str:
    entry = turn.state.answers.get("business.sector")
    return str(entry["v"]) if entry and entry.get("s") == "ok" and entry.get("v") else ""


def sector_label(turn: Turn) -> str:
    chosen = sector(turn)
    return texts.option_label(turn.lang, "business.sector", chosen) if chosen else ""


def proposals(turn: Turn, step: Step) -> list[str] | None:
    """What the interview proposes for a list step: the sector's template, or the default stages."""
    if step.id == "journey.stages":
        template = sector_template(turn.lang, sector(turn))
        if template:
            return [stage.name for stage in template]
        names = texts.questions(turn.lang)[step.id]["default"]
        return [str(names.get(v, v)) for v in step.template.default]
    if step.id == "stage.touchpoints":
        return proposed_touchpoints(turn.lang, sector(turn), step.stage_name) or None
    return None


def error(turn: Turn, key: str, **values: Any) -> None:
    """Tell the owner what was not accepted (a message under `errors`) and ask again."""
    turn.say("error", turn.msg(f"errors.{key}", **values))
    show_question(turn)


def parsed(turn: Turn, step: Step, raw: str, is_choice: bool) -> object:
    """The parsed answer (None: a multi-choice toggle), or INVALID after telling the owner what is wrong."""
    value = settled(turn.state, step.key, raw)  # a near choice the owner just confirmed (engine/confirm.py)
    if value is not None:
        return value
    try:
        return parse(
            step,
            raw,
            is_choice=is_choice,
            lang=turn.lang,
            limits=turn.ctx.flow.limits,
            selection=turn.state.selection,
            proposal=proposals(turn, step) if step.kind == "list" else None,
        )
    except Unsure as unsure:  # close to an option of a choice that also takes free text: ask first
        if hold(turn.state, step.key, raw, unsure):
            show_question(turn)
        else:
            error(turn, "not_a_choice", value=raw)
    except Invalid as invalid:
        error(turn, invalid.key, **invalid.values)
    return INVALID


def answer(turn: Turn, step: Step, raw: str, *, is_choice: bool) -> None:
    """An answer to the current step of the flow: record it and move on, or say why not."""
    state = turn.state
    limit = int(turn.ctx.flow.limits.get("max_answer_chars", 2000))
    if len(raw) > limit:
        error(turn, "too_long", length=len(raw), limit=limit)
        return
    if raw == SKIP or (not is_choice and is_control(raw, SKIP, typos_from=8)):
        skip(turn, step)
        return
    if raw == DONT_KNOW or (not is_choice and matches_word(raw, "dont_know_words")):
        if step.id == "journey.stages":
            turn.record(step, raw, proposals(turn, step), "ok")
        else:
            turn.record(step, raw, None, "unknown")
        after_recorded(turn, step)
        advance(turn, after=step)
        return
    if step.id == "stage.touchpoints" and not is_choice and turn.state.followup != step.key:
        names = read_description(raw)
        if names:  # shown first (engine/describe.py); the next typed answer is taken as the list it is
            state.followup = step.key
            state.pending, state.confirm = DESCRIBED, {"step": step.key, "raw": raw, "value": names}
            if turn.ctx.reads_descriptions:  # a model reads it first; its DescriptionRead shows the reading
                state.confirm["reading"] = True
                turn.effect(ReadDescription(step=step.key, stage=step.stage_name, text=raw, lang=turn.lang))
                turn.say("info", turn.msg("described.reading"))
                return
            show_question(turn)
            return
    if step.id == "stage.team" and not is_choice and stage_teams(turn, step, raw):
        advance(turn, after=step)
        return
    if step.kind == "ratings":
        try:
            done = answer_ratings(turn, step, raw, is_choice=is_choice)
        except Invalid as invalid:
            turn.say("error", turn.msg(f"ratings.errors.{invalid.key}", **invalid.values))
            show_question(turn)
            return
        if done is None:
            show_question(turn)
            return
        if last_ratings_done(turn, step):
            turn.say("map", turn.msg("map_ready"))
        advance(turn, after=step)
        return
    if step.template.sharpen and state.followup != step.key and is_vague(step, raw):
        state.followup = step.key
        example = texts.questions(turn.lang)[step.id].get("example", "")
        turn.say("info", turn.msg("sharpen", example=example))
        show_question(turn)
        return
    value = parsed(turn, step, raw, is_choice)
    if value is INVALID:
        return
    if value is None:  # a multi-choice toggle: nothing recorded yet
        show_question(turn)
        return
    turn.record(step, raw, value, "ok")
    after_recorded(turn, step)
    advance(turn, after=step)


def skip(turn: Turn, step: Step) -> None:
    """Go past `step`: keep its answer, or mark an optional one skipped; a required open step stays."""
    if step.key in turn.state.answers:
        advance(turn, after=step)
    elif step.optional:
        turn.record(step, "/skip", None, "skipped")
        after_recorded(turn, step)
        advance(turn, after=step)
    else:
        error(turn, "not_skippable")


def advance(turn: Turn, after: Step) -> None:
    """Ask the next open step after `after` (or the first open one); complete the journey when none is left."""
    state = turn.state
    state.selection = []
    steps = turn.plan()
    keys = [s.key for s in steps]
    following = steps[keys.index(after.key) + 1 :] if after.key in keys else []
    nxt = next((s for s in following if is_open(s, state.answers)), None) or turn.first_open()
    back, state.resume = state.resume, None  # /back or /edit left this step: return to it, after any question the change opened
    target = steps[keys.index(back)] if back in keys and back != after.key else None
    if target is not None and (is_open(target, state.answers) or not state.answers.get(target.key, {"by": "-"}).get("by")):
        if nxt is not None and nxt in following and keys.index(nxt.key) < keys.index(target.key):
            state.resume = target.key
        else:
            nxt = target
    if nxt is None:
        state.cursor = None
        state.complete = True
        turn.effect(SaveVersion() if state.version_due else JourneyCompleted())
        state.version_due = False
        turn.say("done", turn.msg("done"))
        turn.say("summary", turn.msg("summary.working"))
        return
    state.cursor = nxt.key
    show_question(turn)
