"""A stage told in the owner's own words ("ze ziet ons op Instagram, leest Google-reviews en belt
dan"): read into touchpoints, shown for confirmation, stored only when the owner agrees.

The reading is offline: the sentence is cut at commas, full stops and joining words, and each part
becomes a touchpoint; the lexicon then gives each its channel when the touchpoint list is stored.
"""
from __future__ import annotations

from bot.engine import derive
from bot.engine.derive import DESCRIBED
from bot.engine.questions import after_recorded, advance, answer, open_question, progress, show_question
from bot.engine.turn import Turn
from bot.flow import Step
from bot.replies import Option
from bot.vocabulary import KEEP, is_control



def _step(turn: Turn) -> Step | None:
    key = (turn.state.confirm or {}).get("step")
    return next((s for s in turn.plan() if s.key == key), None)


def ask(turn: Turn) -> None:
    step = _step(turn)
    names = (turn.state.confirm or {}).get("value") or []
    if step is None or not names:
        turn.state.pending, turn.state.confirm = None, None
        show_question(turn)
        return
    lines = [turn.msg("described.ask", stage=step.stage_name)]
    for n, name in enumerate(names, start=1):
        channel = derive.infer_channel(name)
        label = turn.msg("described.channel", channel=_channel_label(turn, channel)) if channel else ""
        lines.append(f"{n}. {name}{label}")
    lines.append(turn.msg("described.how"))
    turn.say("question", "\n".join(lines), step=step.key, kind="list", choices=(Option(KEEP, turn.msg("described.keep")),),
             progress=progress(turn, step), data={"described": list(names)})


def _channel_label(turn: Turn, channel: str) -> str:
    from bot import texts

    return texts.option_label(turn.lang, "touchpoint.channel", channel)


def settle(turn: Turn, raw: str, is_choice: bool) -> None:
    step = _step(turn)
    names = list((turn.state.confirm or {}).get("value") or [])
    turn.state.pending, turn.state.confirm = None, None
    if step is None:
        show_question(turn)
        return
    if raw == KEEP or (not is_choice and (is_control(raw, KEEP) or is_control(raw, "yes"))):
        turn.record(step, raw, names, "ok")
        after_recorded(turn, step)
        advance(turn, after=step)
        return
    answer(turn, step, raw, is_choice=is_choice)  # anything else is the list itself, typed again


open_question(DESCRIBED, ask=ask, answer=settle, button_step=lambda turn: (turn.state.confirm or {}).get("step"))
