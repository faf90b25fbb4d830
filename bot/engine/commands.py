"""The command registry and the commands of the interview itself.

`@command(name, needs=...)` registers a handler; `needs` names the Context lists it reads
("journeys", "todos"), which is how `needs()` tells the caller what to load.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Literal

import prompts
from bot import texts
from bot.engine.effects import ForgetOwner, NewJourney, OpenJourney
from bot.engine.questions import OPEN_QUESTIONS, error, open_question, progress, show_question, skip
from bot.engine.state import State
from bot.engine.turn import Turn
from bot.events import Command, Event, same_step
from bot.flow import Step
from bot.journey import title_of
from bot.replies import Option
from bot.vocabulary import FORGET_STEP, KEEP, LANGUAGE_STEP, SHOW

CONTEXT_LISTS = frozenset({"journeys", "todos", "imports"})
FINISHED = "(finished)"  # State.resume of an owner who went back from a complete journey: no step, so the end again

Handler = Callable[[Turn, str], None]  # (turn, the command's argument)


@dataclass(frozen=True)
class CommandSpec:
    name: str
    run: Handler
    needs: frozenset[str]


REGISTRY: dict[str, CommandSpec] = {}


def command(name: str, *, needs: Iterable[str] = ()) -> Callable[[Handler], Handler]:
    wanted = frozenset(needs)
    assert wanted <= CONTEXT_LISTS, wanted

    def register(handler: Handler) -> Handler:
        REGISTRY[name] = CommandSpec(name=name, run=handler, needs=wanted)
        return handler

    return register


def dispatch(turn: Turn, cmd: Command) -> None:
    if turn.state.paused and cmd.name not in ("cancel", "status"):
        turn.state.paused = False  # any other command carries on with the interview
    spec = REGISTRY.get(cmd.name)
    if spec is None:
        error(turn, "unknown_command", name=cmd.name)
        return
    spec.run(turn, cmd.arg)


def needs(state: State, event: Event) -> frozenset[str]:
    """Which Context lists handling `event` in `state` reads: the command's and the open question's."""
    wanted: frozenset[str] = frozenset()
    if state.pending in OPEN_QUESTIONS:
        wanted |= OPEN_QUESTIONS[state.pending].needs
    if isinstance(event, Command) and event.name in REGISTRY:
        wanted |= REGISTRY[event.name].needs
    return wanted


def start(turn: Turn) -> None:
    state = turn.state
    state.pending = None
    state.review = []
    state.paused = False
    turn.say("info", turn.msg("resume" if state.answers else "welcome"))
    if state.complete:
        turn.say("info", turn.msg("status.done", journey=title_of(turn.lang, state.answers), total=len(turn.plan())))
        return
    show_question(turn)


@command("start")
def start_command(turn: Turn, arg: str) -> None:
    start(turn)


@command(SHOW)
def show_command(turn: Turn, arg: str) -> None:
    if turn.state.complete and not turn.state.pending:
        status_command(turn, arg)
        return
    show_question(turn)


@command("help")
def help_command(turn: Turn, arg: str) -> None:
    turn.say("info", turn.msg("help"))
    show_question(turn)


@command("status")
def status_command(turn: Turn, arg: str) -> None:
    step = turn.current()
    p = progress(turn, step)
    journey = title_of(turn.lang, turn.state.answers)
    if turn.state.paused:
        turn.say("info", turn.msg("status.paused"))
        return
    if step is None:
        turn.say("info", turn.msg("status.done", journey=journey, total=p.total))
        return
    values = dict(journey=journey, answered=p.answered, total=p.total, left=p.left)
    if step.stage_index:
        text = turn.msg("status.stage", stage_index=p.stage_index, stage_count=p.stage_count, stage=p.stage_name, **values)
    else:
        text = turn.msg("status.intro", section=turn.msg(f"sections.{p.section}"), **values)
    turn.say("info", text, progress=p)
    show_question(turn)


@command("back")
def back_command(turn: Turn, arg: str) -> None:
    """The previous question the owner answered; once it is answered again, back to where the owner was."""
    state = turn.state
    state.pending = None
    state.selection = []
    state.confirm = None
    here = None if state.complete else turn.current()
    keys = [s.key for s in turn.plan()]
    earlier = [s for s in owner_answered(turn) if here is None or keys.index(s.key) < keys.index(here.key)]
    if not earlier:
        error(turn, "nothing_before")
        return
    go_back(turn, here, earlier[-1])


@command("edit")
def edit_command(turn: Turn, arg: str) -> None:
    """`/edit`: the answers so far, numbered; `/edit N` (or a step key) asks that question again."""
    state = turn.state
    answered = owner_answered(turn, guessed=True)
    target = arg.strip().lstrip("#")
    if not target:
        if not answered:
            turn.say("error", turn.msg("edit.nothing"))
            show_question(turn)
            return
        lines = [turn.msg("edit.header")]
        for n, step in enumerate(answered, start=1):
            entry = state.answers.get(step.key) or {}
            guessed = " " + turn.msg("edit.guessed") if entry.get("by") else ""
            lines.append(turn.msg("edit.item", n=n, question=step_label(turn, step), answer=short(answer_of(turn, step)) + guessed))
        lines.append(turn.msg("edit.footer"))
        turn.say("info", "\n".join(lines), data={"answers": [{"n": n, "step": s.key} for n, s in enumerate(answered, start=1)]})
        show_question(turn)
        return
    chosen = pick(turn, answered, target)
    if chosen is None:
        turn.say("error", turn.msg("edit.unknown", arg=target))
        show_question(turn)
        return
    state.pending = None
    state.selection = []
    go_back(turn, None if state.complete else turn.current(), chosen)


def go_back(turn: Turn, here: Step | None, to: Step) -> None:
    """Ask `to` again; the first step left this way (not the steps visited since) is where the interview returns."""
    state = turn.state
    state.confirm = None  # a "did you mean" left open is dropped with the question it was about
    if state.resume is None and state.complete:
        state.resume = FINISHED
    elif state.resume is None and here is not None and here.key != to.key:
        state.resume = here.key
    state.complete = False
    state.cursor = to.key
    show_question(turn)


def owner_answered(turn: Turn, *, guessed: bool = False) -> list[Step]:
    """The questions of the journey the owner answered, in the order of the plan. Answers filled for the
    owner by another answer are not questions; with `guessed`, inferred ones (a channel read from a
    touchpoint's name, or read by a model from a stage told in own words) are included, so the owner can correct them."""
    found = []
    for step in turn.plan():
        entry = turn.state.answers.get(step.key)
        per_stage_evidence = guessed and step.id == "stage.evidence"
        if entry is None or (not step.template.asked and not per_stage_evidence) or step.key.startswith("meta."):
            continue
        if not entry.get("by") or (guessed and (entry.get("by") in ("inferred", "described") or step.id == "stage.evidence")):
            found.append(step)  # one stage's evidence, given once for all stages, can be changed on its own
    return found


def pick(turn: Turn, answered: list[Step], target: str) -> Step | None:
    """The question `/edit` names: its number in the list, its step key or the key's `step_token`."""
    if target.isdecimal() and target.isascii():
        n = int(target)
        return answered[n - 1] if 1 <= n <= len(answered) else None
    # by key, any answer of the journey, also one filled for the owner (one stage's evidence, a
    # touchpoint's pain), so what was given once for all can be changed for one
    stored = [s for s in turn.plan() if s.key in turn.state.answers and not s.key.startswith("meta.")]
    return next((s for s in stored if same_step(target, s.key) or same_step("#" + target, s.key)), None)


def step_label(turn: Turn, step: Step) -> str:
    try:
        return texts.step_label(turn.lang, step, turn.state.answers)
    except KeyError:  # a step without a label in prompts/: its key says what it is
        return step.key


def answer_of(turn: Turn, step: Step) -> str:
    return texts.display_value(turn.lang, step.id, turn.state.answers.get(step.key))


def short(text: str, limit: int = 60) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


@command("skip")
def skip_command(turn: Turn, arg: str) -> None:
    if turn.state.pending == "review" and turn.state.review:
        OPEN_QUESTIONS["review"].answer(turn, KEEP, True)  # in a review, skipping keeps the item as it is
        return
    step = turn.current()
    if step is None:
        status_command(turn, arg)
        return
    skip(turn, step)


@command("summary")
def summary_command(turn: Turn, arg: str) -> None:
    deliver(turn, "summary")


@command("export")
def export_command(turn: Turn, arg: str) -> None:
    deliver(turn, "export")


def deliver(turn: Turn, kind: Literal["summary", "export"]) -> None:
    """Ask the adapter for the report or the export of the current journey, then go on with the interview."""
    if not turn.state.answers or turn.state.journey_id is None:
        error(turn, "empty_journey")
        return
    turn.say(kind, turn.msg("summary.working") if kind == "summary" else "")
    show_question(turn)


@command("new")
def new_command(turn: Turn, arg: str) -> None:
    turn.reset_journey()
    turn.say("info", turn.msg("new_started"))
    show_question(turn)


@command("list", needs={"journeys"})
def list_command(turn: Turn, arg: str) -> None:
    journeys = turn.ctx.journeys
    if not journeys:
        turn.say("info", turn.msg("list.empty"))
        return
    lines = [turn.msg("list.header")]
    for ref in journeys:
        marker = turn.msg("list.current" if ref.id == turn.state.journey_id else "list.other")
        lines.append(turn.msg("list.item", marker=marker, id=ref.id, title=ref.title, answered=ref.answered, total=ref.total))
    lines.append(turn.msg("list.footer"))
    turn.say("info", "\n".join(lines), data={"journeys": [ref.id for ref in journeys]})
    show_question(turn)


@command("open", needs={"journeys"})
def open_command(turn: Turn, arg: str) -> None:
    target = arg.strip().lstrip("#")
    refs = {str(ref.id): ref for ref in turn.ctx.journeys}
    if target not in refs:
        error(turn, "no_such_journey", arg=target or "?")
        return
    turn.effect(OpenJourney(refs[target].id))
    turn.say("info", turn.msg("opened", journey=refs[target].title))


@command("language")
def language_command(turn: Turn, arg: str) -> None:
    code = arg.strip().lower()
    if not code:
        ask_language(turn)
        return
    if code not in prompts.LANGUAGES:
        error(turn, "unknown_language")
        return
    state = turn.state
    state.lang = code
    state.pending = None
    turn.say("info", turn.msg("language.set"))
    if not (state.answers or state.journey_id is not None or turn.has_effect(NewJourney)):
        turn.say("info", turn.msg("welcome"))
    show_question(turn)


@command("cancel")
def cancel_command(turn: Turn, arg: str) -> None:
    state = turn.state
    if state.pending == "review":
        state.pending = None
        state.review = []
        turn.say("info", turn.msg("review.cancelled"))
        show_question(turn)
        return
    if state.pending or state.selection:
        state.pending = None
        state.selection = []
        turn.say("info", turn.msg("cancelled"))
        show_question(turn)
        return
    state.paused = True
    turn.say("info", turn.msg("paused"))


@command("forget")
def forget_command(turn: Turn, arg: str) -> None:
    ask_forget(turn)


def ask_language(turn: Turn) -> None:
    turn.state.pending = "language"
    names = prompts.load(turn.lang, "messages")["language"]["names"]
    turn.say(
        "question",
        turn.msg("language.ask"),
        step=LANGUAGE_STEP,
        kind="single_choice",
        choices=tuple(Option(code, names[code]) for code in prompts.LANGUAGES),
    )


def answer_language(turn: Turn, raw: str, is_choice: bool) -> None:
    value = raw.strip().lower()
    names = {
        str(name).lower(): code
        for lang in prompts.LANGUAGES
        for code, name in prompts.load(lang, "messages")["language"]["names"].items()
    }
    numbers = {str(i): code for i, code in enumerate(prompts.LANGUAGES, start=1)}
    code = value if value in prompts.LANGUAGES else names.get(value) or numbers.get(value)
    if code is None:
        turn.say("error", turn.msg("errors.unknown_language"))
        ask_language(turn)
        return
    first_time = turn.state.lang is None
    turn.state.lang = code
    turn.state.pending = None
    turn.say("info", turn.msg("welcome" if first_time else "language.set"))
    show_question(turn)


def ask_forget(turn: Turn) -> None:
    turn.state.pending = "forget"
    turn.say(
        "question",
        turn.msg("forget.confirm"),
        step=FORGET_STEP,
        kind="single_choice",
        choices=(Option("yes", turn.msg("buttons.yes")), Option("no", turn.msg("buttons.no"))),
    )


def answer_forget(turn: Turn, raw: str, is_choice: bool) -> None:
    value = raw.strip().lower()
    turn.state.pending = None
    if value in ("yes", "ja", "y", "j", "1") or value == turn.msg("buttons.yes").lower():
        turn.effect(ForgetOwner())
        turn.say("forgotten", turn.msg("forget.done"))
        return
    turn.say("info", turn.msg("forget.kept"))
    show_question(turn)


open_question("language", ask=ask_language, answer=answer_language, button_step=lambda turn: LANGUAGE_STEP)
open_question("forget", ask=ask_forget, answer=answer_forget, button_step=lambda turn: FORGET_STEP)
