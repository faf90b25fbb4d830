"""Typed text: the answer to the open question, else to the current step of the flow (also what a
confirmed voice note's words go through, bot/engine/heard.py)."""
from __future__ import annotations

from bot.engine.commands import status_command
from bot.engine.questions import OPEN_QUESTIONS, answer, show_question
from bot.engine.turn import Turn


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
