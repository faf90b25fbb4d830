"""One event through the turn: the language first, then a command, a tapped button or typed text."""
from __future__ import annotations

import prompts
from bot.engine import living  # noqa: F401  (registers the living-journey commands)
from bot.engine.commands import ask_language, dispatch, start, status_command
from bot.engine.questions import OPEN_QUESTIONS, answer, show_question
from bot.engine.state import Outcome
from bot.engine.turn import Turn
from bot.events import Choice, Command, Event, Start, Text, same_step


def run(turn: Turn, event: Event) -> Outcome:
    state = turn.state
    if isinstance(event, Text) and "\x00" in event.text:
        # NUL is the one character no database text column can hold (PostgreSQL refuses it)
        event = Text(event.text.replace("\x00", ""))
    answers_language = state.pending == "language" and isinstance(event, (Choice, Text))
    if state.lang is None and not answers_language:
        hint = event.lang_hint if isinstance(event, Start) and event.lang_hint else turn.ctx.lang_hint
        if hint:
            state.lang = prompts.normalise_language(hint)
            turn.say("info", turn.msg("welcome"))
            show_question(turn)
        else:
            ask_language(turn)
        return turn.finish()
    if isinstance(event, Start):
        start(turn)
    elif isinstance(event, Command):
        dispatch(turn, event)
    elif isinstance(event, Choice):
        on_choice(turn, event)
    else:
        on_text(turn, event.text)
    return turn.finish()


def on_choice(turn: Turn, choice: Choice) -> None:
    state = turn.state
    question = OPEN_QUESTIONS.get(state.pending or "")
    button_step = question.button_step(turn) if question else None
    if question and button_step is not None and (choice.step is None or same_step(choice.step, button_step)):
        question.answer(turn, choice.value, True)
        return
    step = turn.current()
    state.paused = False
    if step is None or (choice.step is not None and not same_step(choice.step, step.key)) or state.pending:
        if step is None and choice.step is None:
            status_command(turn, "")
            return
        turn.say("info", turn.msg("stale"))
        show_question(turn)
        return
    answer(turn, step, choice.value, is_choice=True)


def on_text(turn: Turn, raw: str) -> None:
    state = turn.state
    question = OPEN_QUESTIONS.get(state.pending or "")
    if question:
        question.answer(turn, raw, False)
        return
    if state.paused:
        state.paused = False
        turn.say("info", turn.msg("resume"))
        show_question(turn)
        return
    step = turn.current()
    if step is None:
        status_command(turn, "")
        return
    answer(turn, step, raw, is_choice=False)
