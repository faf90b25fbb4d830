"""A typed choice close to an option of a step that also takes free text ("bakkerj" for the sector):
nothing is stored until the owner says which was meant, the option or what was typed.

`answers.hold` opens the question (`State.pending == "confirm"`); `State.confirm` holds what it is about:
{"step": the step key, "raw": the typed answer, "value": what would be stored as typed (a text, or
the list of a multi-choice), "items": [[typed part, [near option values]], ...] still to settle}.
"""
from __future__ import annotations

from typing import Any

from bot import texts
from bot.engine.answers import CONFIRM
from bot.engine.questions import answer, open_question, progress, show_question
from bot.engine.turn import Turn
from bot.flow import Step
from bot.replies import Option
from bot.vocabulary import KEEP, compact, is_control, join_labels

def current_step(turn: Turn) -> Step | None:
    confirm = turn.state.confirm or {}
    return next((s for s in turn.plan() if s.key == confirm.get("step")), None)


def drop(turn: Turn) -> None:
    turn.state.pending = None
    turn.state.confirm = None


def ask(turn: Turn) -> None:
    step = current_step(turn)
    confirm = turn.state.confirm or {}
    if step is None or not confirm.get("items"):
        drop(turn)
        show_question(turn)
        return
    typed, values = confirm["items"][0]
    labels = [texts.option_label(turn.lang, step.id, v) for v in values]
    turn.say(
        "question",
        turn.msg("confirm.ask", typed=typed, options=join_labels(turn.lang, labels)),
        step=step.key,
        kind="single_choice",
        choices=(*(Option(v, label) for v, label in zip(values, labels)), Option(KEEP, turn.msg("confirm.keep", typed=typed))),
        progress=progress(turn, step),
        data={"confirm": {"typed": typed, "options": list(values)}},
    )


def chosen(raw: str, is_choice: bool, typed: str, values: list[str], step: Step, lang: str) -> str | None:
    """The option meant, KEEP for what was typed, or None when `raw` is a new answer to the step."""
    if is_choice:
        return raw if raw == KEEP or raw in values else None
    text = raw.strip()
    if compact(text) == compact(typed) or is_control(text, "keep_typed", typos_from=6) or is_control(text, "no"):
        return KEEP
    if is_control(text, KEEP) and not is_control(text, "yes"):
        return KEEP
    if is_control(text, "yes"):
        return values[0] if len(values) == 1 else None
    if text.isdigit():
        index = int(text)
        if 1 <= index <= len(values):
            return values[index - 1]
        return KEEP if index == len(values) + 1 else None
    for value in values:
        if compact(text) in {compact(value), compact(texts.option_label(lang, step.id, value))}:
            return value
    return None


def answer_confirm(turn: Turn, raw: str, is_choice: bool) -> None:
    state = turn.state
    step = current_step(turn)
    confirm: dict[str, Any] = dict(state.confirm or {})
    if step is None or not confirm.get("items"):
        drop(turn)
        show_question(turn) if step is None else answer(turn, step, raw, is_choice=is_choice)
        return
    items = [list(item) for item in confirm["items"]]
    typed, values = items[0]
    if not is_choice and len(values) > 1 and is_control(raw, "yes"):
        turn.say("error", turn.msg("confirm.which", options=join_labels(turn.lang, [texts.option_label(turn.lang, step.id, v) for v in values])))
        ask(turn)
        return
    meant = chosen(raw, is_choice, typed, values, step, turn.lang)
    if meant is None:  # not an answer to "did you mean": a new answer to the question itself
        drop(turn)
        answer(turn, step, raw, is_choice=is_choice)
        return
    value = confirm["value"]
    if meant != KEEP:
        if isinstance(value, list):
            value = [meant if v == typed else v for v in value]
            value = [v for n, v in enumerate(value) if v not in value[:n]]
        else:
            value = meant
    if len(items) > 1:
        state.confirm = {**confirm, "value": value, "items": items[1:]}
        ask(turn)
        return
    # settled: the typed answer goes its ordinary way and `settled` hands its parse this value
    typed_raw = str(confirm.get("raw") or raw)
    state.pending = None
    state.confirm = {"step": step.key, "raw": typed_raw, "value": value, "settled": True}
    answer(turn, step, typed_raw, is_choice=False)


def button_step(turn: Turn) -> str | None:
    return (turn.state.confirm or {}).get("step")


open_question(CONFIRM, ask=ask, answer=answer_confirm, button_step=button_step)
