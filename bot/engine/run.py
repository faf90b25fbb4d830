"""One event through the turn: the language first, then a command, a tapped button or typed text."""
from __future__ import annotations

import prompts
from bot.engine import living  # noqa: F401  (registers the living-journey commands)
from bot.engine.describe import on_read
from bot.engine.commands import answer_of, ask_language, dispatch, start, status_command, step_label
from bot.engine.effects import NewJourney
from bot.engine.questions import OPEN_QUESTIONS, answer, show_question
from bot.engine.state import Outcome
from bot.engine.turn import Turn
from bot.engine.heard import HEARD, KEEPS_HEARD, forget_stale, on_heard, restore
from bot.engine.typed import on_text
from bot.events import Choice, Command, DescriptionRead, EditedText, Event, Heard, Start, Text, parse_input, same_step


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
    if state.pending == HEARD and (isinstance(event, Start) or (isinstance(event, Command) and event.name not in KEEPS_HEARD)):
        restore(turn)  # a command moves on: the transcript was meant for the question it came in on
    asked = None if state.pending or state.paused else turn.current()
    if isinstance(event, Start):
        start(turn)
    elif isinstance(event, Command):
        dispatch(turn, event)
    elif isinstance(event, Choice):
        on_choice(turn, event)
    elif isinstance(event, EditedText):
        on_edited(turn, event)
    elif isinstance(event, Heard):
        on_heard(turn, event.text)
    elif isinstance(event, DescriptionRead):
        on_read(turn, event)
    else:
        on_text(turn, event.text)
    forget_stale(turn)
    remember(turn, event, asked.key if asked else None)
    return turn.finish()


def remember(turn: Turn, event: Event, asked: str | None) -> None:
    """Which message carried the last answer: a typed answer to the question that was open sets it;
    any other answer, or another journey, clears it (an edit of that message no longer applies)."""
    state = turn.state
    if turn.has_effect(NewJourney):
        state.last_answer = state.resume = None
        return
    if isinstance(event, EditedText) or not turn.out.logged:
        return
    answered = isinstance(event, Text) and event.message_id and asked and any(item.key == asked for item in turn.out.logged)
    state.last_answer = {"step": str(asked), "msg": str(event.message_id)} if answered else None  # type: ignore[union-attr]


def on_edited(turn: Turn, edited: EditedText) -> None:
    """An edited message: it changes the answer it carried while that is the last answer; it never
    answers the question that is open now."""
    state = turn.state
    last = state.last_answer or {}
    step = next((s for s in turn.plan() if s.key == last.get("step")), None)
    if (
        step is None
        or last.get("msg") != edited.original_id
        or step.key not in state.answers
        or state.pending
        or not isinstance(parse_input(edited.text), Text)
    ):
        turn.say("info", turn.msg("edit.too_late"))
        return
    here = None if state.complete else turn.current()
    outer = state.resume
    away = here is not None and here.key != step.key  # the owner is at another question: come back to it
    state.resume = here.key if here is not None and away else outer
    state.cursor = step.key
    state.complete = False
    mark = len(turn.out.replies)
    answer(turn, step, edited.text, is_choice=False)
    if any(item.key == step.key for item in turn.out.logged):
        turn.say("info", turn.msg("edit.updated", question=step_label(turn, step), answer=answer_of(turn, step)))
        turn.out.replies.insert(mark, turn.out.replies.pop())
        if away and here is not None and state.resume is None and state.cursor == here.key:
            state.resume = outer  # back where the owner was, whose own way back still holds


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
