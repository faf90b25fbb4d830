"""A stage told in the owner's own words ("ze ziet ons op Instagram, leest Google-reviews en belt
dan"): read into touchpoints, shown for confirmation, stored only when the owner agrees.

The offline reading cuts the sentence at commas, full stops and joining words; each part becomes a
touchpoint and the lexicon gives its channel when the list is stored. When the context says a model
reads descriptions, the engine asks for it with the effect `ReadDescription` and waits; the caller
answers with the event `DescriptionRead`: the model's touchpoints, each with the channel, feeling and
pain the owner's words give (shown, and stored with the list when the owner keeps it), or `failed`,
and the offline reading is shown instead.
"""
from __future__ import annotations

from typing import Any

from bot import texts
from bot.engine import derive
from bot.engine.derive import DESCRIBED
from bot.engine.questions import after_recorded, advance, answer, open_question, progress, show_question
from bot.engine.stage_steps import fill_all, last_ratings_done
from bot.engine.turn import Turn
from bot.events import DescriptionRead
from bot.flow import Step, is_open, touchpoint_key
from bot.replies import Option
from bot.vocabulary import KEEP, is_control

BY = "described"  # how answers read from a description are marked (`Turn.fill`)
READ_FIELDS = ("touchpoint.channel", "touchpoint.feeling", "touchpoint.pain")


def _step(turn: Turn) -> Step | None:
    key = (turn.state.confirm or {}).get("step")
    return next((s for s in turn.plan() if s.key == key), None)


def _read(turn: Turn) -> list[dict[str, Any]]:
    """What a model read per touchpoint ({"channel", "feeling", "pain"}), aligned with the names; [] offline."""
    read = (turn.state.confirm or {}).get("read")
    return [dict(item) for item in read] if isinstance(read, list) else []


def ask(turn: Turn) -> None:
    step = _step(turn)
    confirm = turn.state.confirm or {}
    names = confirm.get("value") or []
    if step is None or not names:
        turn.state.pending, turn.state.confirm = None, None
        show_question(turn)
        return
    if confirm.get("reading"):  # asked again before the model's reading came: the offline one stands
        turn.state.confirm = {k: v for k, v in confirm.items() if k != "reading"}
    read = _read(turn)
    lines = [turn.msg("described.ask", stage=step.stage_name)]
    for n, name in enumerate(names, start=1):
        item = read[n - 1] if n <= len(read) else {}
        channel = item.get("channel") or derive.infer_channel(name)
        line = f"{n}. {name}"
        if channel:
            line += turn.msg("described.channel", channel=texts.option_label(turn.lang, "touchpoint.channel", channel))
        if item.get("feeling"):
            line += turn.msg("described.feeling", score=texts.option_label(turn.lang, "touchpoint.feeling", str(item["feeling"])))
        if item.get("pain"):
            line += turn.msg("described.pain", pain=item["pain"])
        lines.append(line)
    lines.append(turn.msg("described.how_read" if read else "described.how"))
    data: dict[str, Any] = {"described": list(names)}
    if read:
        data["read"] = read
    turn.say("question", "\n".join(lines), step=step.key, kind="list", choices=(Option(KEEP, turn.msg("described.keep")),),
             progress=progress(turn, step), data=data)


def settle(turn: Turn, raw: str, is_choice: bool) -> None:
    step = _step(turn)
    confirm = turn.state.confirm or {}
    if step is not None and confirm.get("reading"):
        ask(turn)  # the model's reading never came: show the offline one; nothing typed before it counts
        return
    names = list(confirm.get("value") or [])
    read = _read(turn)
    turn.state.pending, turn.state.confirm = None, None
    if step is None:
        show_question(turn)
        return
    if raw == KEEP or (not is_choice and (is_control(raw, KEEP) or is_control(raw, "yes"))):
        turn.record(step, raw, names, "ok")
        rated = keep_read(turn, step, read)
        after_recorded(turn, step)
        if rated:
            turn.say("map", turn.msg("map_ready"))
        advance(turn, after=step)
        return
    answer(turn, step, raw, is_choice=is_choice)  # anything else is the list itself, typed again


def keep_read(turn: Turn, step: Step, read: list[dict[str, Any]]) -> bool:
    """Store what the model read for each kept touchpoint, so those questions are not asked. True when
    this rated the last stage still unrated (the map can be drawn now)."""
    slug = step.stage_slug
    for n, item in enumerate(read, start=1):
        for template in READ_FIELDS:
            value = item.get(template.split(".", 1)[1])
            if value is not None:
                turn.fill(touchpoint_key(slug, n, template), value, by=BY)
    fill_all(turn, derive.after_described(turn.state.answers, slug), by="stage")
    ratings = next((s for s in turn.plan() if s.id == "stage.ratings" and s.stage_slug == slug), None)
    return bool(read) and ratings is not None and ratings.key not in turn.state.answers and not is_open(ratings, turn.state.answers) and last_ratings_done(turn, ratings)


def on_read(turn: Turn, event: DescriptionRead) -> None:
    """The model's reading of the description that waits for it; anything else is stale and ignored
    (the owner moved on, or the offline reading was shown already)."""
    confirm = turn.state.confirm or {}
    if turn.state.pending != DESCRIBED or confirm.get("step") != event.step or not confirm.get("reading"):
        return
    if not event.failed and event.touchpoints:
        turn.state.confirm = {
            **confirm,
            "value": [tp.name for tp in event.touchpoints],
            "read": [{"channel": tp.channel, "feeling": tp.feeling, "pain": tp.pain} for tp in event.touchpoints],
        }
    ask(turn)


open_question(DESCRIBED, ask=ask, answer=settle, button_step=lambda turn: (turn.state.confirm or {}).get("step"))
