"""The App Home tab as Block Kit: the owner's journeys, or a welcome for someone without any.

Pure functions, no I/O, like render.py: every sentence comes from prompts/<lang>/slack.yaml `home`,
owner text is escaped for mrkdwn (&, <, >) in `verbatim` sections, and a to-do's title (the coach,
or a language model, wrote it) has its addresses set in `code`, as in the summary.

A Home view holds at most 100 blocks: each journey takes at most BLOCKS_PER_JOURNEY, so at most
MAX_JOURNEYS are listed and a last line says how many more there are.
"""
from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from app.home import HomeJourney
from bot.report_sections import long_date
from handlers.kit.links import split_links
from handlers.slack import render
from handlers.slack.render import Block

ACTION = "jb.home"  # prefix of the Home tab's buttons: jb.home.<kind>[.<journey id>]
KINDS = ("open", "export", "review", "start")
MAX_VIEW_BLOCKS = 100  # Slack's limit for a Home view
MAX_TODOS = 5  # to-dos listed per journey; the rest is counted
MAX_ALT_TEXT = 2000
MAX_TITLE = 300  # characters of a journey's title: escaped, it still fits a section
MAX_TODO_TITLE = 100  # characters of a to-do's title: escaped, all of them fit one section
HEAD_BLOCKS = 2  # the header and the intro
BLOCKS_PER_JOURNEY = 6  # title, progress, to-dos, picture, buttons, divider
MAX_JOURNEYS = (MAX_VIEW_BLOCKS - HEAD_BLOCKS - 1) // BLOCKS_PER_JOURNEY  # 1: the "more journeys" line


def t(lang: str, key: str, **values: Any) -> str:
    return render.t(lang, f"home.{key}", **values)


def view(blocks: Sequence[Block]) -> dict[str, Any]:
    """The Home view (views.publish), never more than 100 blocks."""
    return {"type": "home", "blocks": list(blocks)[:MAX_VIEW_BLOCKS]}


def home_blocks(lang: str, journeys: Sequence[HomeJourney], pictures: Mapping[int, str] | None = None) -> list[Block]:
    """The owner's journeys, in the order given (newest first), at most MAX_JOURNEYS of them;
    `pictures` maps a journey id to the Slack file id of its map picture."""
    if not journeys:
        return welcome_blocks(lang)
    pictures = pictures or {}
    blocks: list[Block] = [render.header(t(lang, "title")), render.context(t(lang, "intro"))]
    for journey in journeys[:MAX_JOURNEYS]:
        blocks += journey_blocks(lang, journey, pictures.get(journey.id))
    hidden = len(journeys) - MAX_JOURNEYS
    if hidden > 0:
        blocks.append(render.context(t(lang, "more_journeys", count=hidden)))
    return blocks[:MAX_VIEW_BLOCKS]


def welcome_blocks(lang: str) -> list[Block]:
    """For an owner without journeys: what journeybot does, and Start (the same as `/journey`)."""
    start = render.button(t(lang, "start"), f"{ACTION}.start", "{}", style="primary")
    return [render.header(t(lang, "welcome_title")), *render.sections(t(lang, "welcome")), *render.actions([start], block_id="home.start")]


def journey_blocks(lang: str, journey: HomeJourney, picture: str | None = None) -> list[Block]:
    """One journey: its title, progress and next review, its open to-dos, its map picture (when
    `picture`, a Slack file id, is given) and the buttons Carry on, Export and (once complete) Review."""
    blocks: list[Block] = [render.section(f"*{render.escape(render.truncate(journey.title, MAX_TITLE) or '…')}*", verbatim=True)]
    facts = [t(lang, "complete") if journey.complete else t(lang, "progress", answered=journey.answered, total=journey.total)]
    if journey.review_due is not None:
        facts.append(t(lang, "next_review", date=long_date(journey.review_due.isoformat(), lang)))
    blocks.append(render.context(" · ".join(facts)))
    if journey.todos:
        blocks.append(render.section(todo_text(lang, journey), verbatim=True))
    if picture:
        alt = render.truncate(t(lang, "picture_alt", title=journey.title), MAX_ALT_TEXT)
        blocks.append({"type": "image", "slack_file": {"id": picture}, "alt_text": alt})
    buttons = [
        render.button(t(lang, "carry_on"), f"{ACTION}.open.{journey.id}", value_of(journey.id), style="primary"),
        render.button(t(lang, "export"), f"{ACTION}.export.{journey.id}", value_of(journey.id)),
    ]
    if journey.complete:
        buttons.append(render.button(t(lang, "review"), f"{ACTION}.review.{journey.id}", value_of(journey.id)))
    blocks += render.actions(buttons, block_id=f"home.j{journey.id}")
    blocks.append(render.divider())
    return blocks


def todo_text(lang: str, journey: HomeJourney) -> str:
    """The first MAX_TODOS open or planned to-dos, one a line, and how many more there are."""
    lines = [t(lang, "todos")]
    for todo in journey.todos[:MAX_TODOS]:
        title = _data(render.truncate(todo.title, MAX_TODO_TITLE))
        lines.append(t(lang, "todo_planned" if todo.status == "planned" else "todo", title=title))
    more = len(journey.todos) - MAX_TODOS
    if more > 0:
        lines.append(t(lang, "more_todos", count=more))
    return render.truncate("\n".join(lines), render.MAX_SECTION)


def _data(text: str) -> str:
    """Text a coach or a model wrote, as mrkdwn: escaped, every address in `code` (no link is made)."""
    return "".join(f"`{render.escape(piece)}`" if is_link else render.escape(piece) for piece, is_link in split_links(text))


def value_of(journey_id: int) -> str:
    return json.dumps({"j": journey_id}, separators=(",", ":"))


def parse_action(action_id: str, value: str) -> tuple[str, int | None] | None:
    """(kind, journey id) of a Home button; None for anything else (or a value that was tampered with)."""
    parts = (action_id or "").split(".")
    if len(parts) < 3 or ".".join(parts[:2]) != ACTION or parts[2] not in KINDS:
        return None
    kind = parts[2]
    if kind == "start":
        return kind, None
    try:
        journey_id = int(json.loads(value or "{}")["j"])
    except (ValueError, KeyError, TypeError):
        return None
    return kind, journey_id
