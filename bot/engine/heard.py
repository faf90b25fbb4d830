"""A voice note's transcript, shown back before it counts: "I heard: “…”", with Use this / retype.

Nothing is recorded until the owner taps Use this (or types yes); the transcript then goes the way
a typed answer goes (`typed.on_text`), to the question that was open when the note came in, including
an open question outside the flow, which waits under `held` meanwhile. Retyping (the button, or
any other typed text) drops the transcript. While open, `State.pending == HEARD` and
`State.confirm` = {"heard": the transcript, "step": a key naming this transcript (a button of an
older one is stale), "held": the open question it came in on, {"pending", "confirm"}, or None}.
"""
from __future__ import annotations

import hashlib
from typing import Any

from bot.engine.questions import open_question, progress, show_question
from bot.engine.turn import Turn
from bot.engine.typed import on_text
from bot.replies import Option
from bot.vocabulary import SHOW, compact, is_control

HEARD = "heard"
USE = "__use__"
RETYPE = "__retype__"
KEEPS_HEARD = frozenset({SHOW, "status", "help"})  # commands that only show where the owner is; any other drops the transcript


def key_of(text: str) -> str:
    return "heard." + hashlib.blake2s(text.encode("utf-8"), digest_size=6).hexdigest()


def on_heard(turn: Turn, text: str) -> None:
    """A transcript arrived: ask whether it is what the owner meant, or say why it cannot be used."""
    state = turn.state
    text = text.replace("\x00", "").strip()
    if not text:
        turn.say("error", turn.msg("heard.empty"))
        show_question(turn)
        return
    limit = int(turn.ctx.flow.limits.get("max_answer_chars", 2000))
    if len(text) > limit:
        turn.say("error", turn.msg("heard.too_long", length=len(text), limit=limit))
        show_question(turn)
        return
    state.paused = False  # the owner is talking: carry on, as a command does
    if state.pending == HEARD:  # a second note before the first was settled replaces it
        held = (state.confirm or {}).get("held")
    else:
        held = {"pending": state.pending, "confirm": state.confirm} if state.pending else None
    state.pending = HEARD
    state.confirm = {"heard": text, "step": key_of(text), "held": held}
    show_question(turn)


def ask(turn: Turn) -> None:
    confirm = turn.state.confirm or {}
    text = confirm.get("heard")
    if not text:
        restore(turn)
        show_question(turn)
        return
    open_step = None if (confirm.get("held") or turn.state.complete) else turn.current()
    turn.say(
        "question",
        turn.msg("heard.ask", text=text) + "\n" + turn.msg("heard.how"),
        step=str(confirm.get("step") or key_of(text)),
        kind="single_choice",
        choices=(Option(USE, turn.msg("heard.use")), Option(RETYPE, turn.msg("heard.retype"))),
        progress=progress(turn, open_step) if open_step is not None else None,
        data={"heard": True},
    )


def restore(turn: Turn) -> str:
    """Close the question, bring back the one the note came in on; the transcript it held."""
    state = turn.state
    confirm: dict[str, Any] = dict(state.confirm or {})
    held = confirm.get("held") or {}
    state.pending = held.get("pending")
    state.confirm = held.get("confirm")
    return str(confirm.get("heard") or "")


def meant(turn: Turn, raw: str, is_choice: bool) -> str | None:
    """USE, RETYPE, or None when `raw` is an answer typed instead of the transcript."""
    if is_choice:
        return raw if raw in (USE, RETYPE) else RETYPE
    typed = compact(raw)
    if typed in {compact(turn.msg("heard.use")), compact(USE)} or is_control(raw, "yes"):
        return USE
    if typed == compact(turn.msg("heard.retype")) or is_control(raw, "no"):
        return RETYPE
    return None


def answer(turn: Turn, raw: str, is_choice: bool) -> None:
    choice = meant(turn, raw, is_choice)
    text = restore(turn)
    if choice == USE and text:
        on_text(turn, text)
    elif choice is None:
        on_text(turn, raw)  # typed instead: that is the answer, the transcript is dropped
    else:
        turn.say("info", turn.msg("heard.retyping"))
        show_question(turn)


def forget_stale(turn: Turn) -> None:
    """A command that closed the question without `restore` leaves no transcript behind."""
    confirm = turn.state.confirm
    if turn.state.pending != HEARD and isinstance(confirm, dict) and "heard" in confirm:
        turn.state.confirm = None


# the answer may go on to the question the note came in on: a review reads the to-dos, results the imports
open_question(HEARD, ask=ask, answer=answer, button_step=lambda turn: (turn.state.confirm or {}).get("step"), needs={"todos", "imports"})
