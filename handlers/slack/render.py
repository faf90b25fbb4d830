"""Slack rendering: mrkdwn escaping and Block Kit within Slack's limits.

Pure functions, no I/O. Every user-facing sentence comes from prompts/<lang>/slack.yaml
(the report's from report.yaml, through bot.report_sections; the engine's from messages.yaml);
owner text is escaped for mrkdwn (&, <, > only).

The report is data (a language model may have written it): its sections are `verbatim` (Slack
turns no text into a link or a mention there), an address in it is set in `code`, and messages are
posted with `NO_UNFURL`.

Limits (https://docs.slack.dev/reference/block-kit): 50 blocks per message, 3,000
characters per section text, header 150, button text 75, button value 2,000,
action_id/block_id 255, 25 elements per actions block.
"""
from __future__ import annotations

import html
import json
import re
from typing import Any, Iterable, Sequence

import prompts
from bot.events import step_token
from bot.replies import Option, Reply
from bot.report import Report
from bot.report_sections import PEOPLE, Item, report_sections
from handlers.kit.links import split_links

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_ACTIONS = 25
MAX_CONTEXT = 3000
MAX_FALLBACK = 3000  # the `text` next to blocks: notifications, screen readers

ANSWER_ACTION = "jb.answer"  # prefix of the interview buttons' action_id
RATE_ACTION = f"{ANSWER_ACTION}.rate"  # a touchpoint's rating select: jb.answer.rate.<index>
RATE_PREFIX = "rate:"
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_PLACEHOLDER = 150
CONTRIB_ACTION = "jb.contrib"  # prefix of the contribution buttons' action_id

Block = dict[str, Any]
NO_UNFURL: dict[str, Any] = {"unfurl_links": False, "unfurl_media": False}  # for chat.postMessage: no previews of any link


def t(lang: str, key: str, **values: Any) -> str:
    """A Slack adapter text from prompts/<lang>/slack.yaml."""
    return prompts.say(lang, "slack", key, **values)


def escape(text: str) -> str:
    """Escape owner text for mrkdwn: only &, < and > (quotes stay as they are)."""
    return html.escape(text, quote=False)


def unescape(text: str) -> str:
    """Slack sends message text with &, <, > escaped; give the engine what the owner typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int = MAX_SECTION) -> list[str]:
    """Split already-formatted mrkdwn into parts of at most `limit` characters.

    Cuts at paragraph breaks, then line breaks, then spaces; a word longer than the
    limit is cut hard. Never returns an empty part (an empty text gives no parts).
    """
    text = text.strip("\n")
    parts: list[str] = []
    while len(text) > limit:
        window = text[:limit]
        cut = max(window.rfind("\n\n"), -1)
        if cut <= 0:
            cut = window.rfind("\n")
        if cut <= 0:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = limit
            # never cut an escape sequence such as &amp; in two
            amp = window.rfind("&", max(0, limit - 5))
            if amp > 0 and ";" not in window[amp:]:
                cut = amp
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n ")
    if text.strip():
        parts.append(text)
    return [p for p in parts if p.strip()]


def escaped_sections(raw: str, limit: int = MAX_SECTION) -> list[Block]:
    """Owner (or coach) text as one or more mrkdwn sections: split, then escape each part.

    Each part is split so that it still fits after escaping (escaping makes text longer).
    """
    blocks: list[Block] = []
    for part in split_text(raw, limit):
        escaped = escape(part)
        if len(escaped) <= limit:
            blocks.append(section(escaped))
        else:  # escaping made it longer: cut the text so that each escaped piece fits, never inside an entity
            blocks.extend(section(piece) for piece in _fit_escaped(part, limit))
    return blocks


def _fit_escaped(raw: str, limit: int) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in raw:
        escaped = escape(char)
        if size + len(escaped) > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(escaped)
        size += len(escaped)
    pieces.append("".join(current))
    return [piece for piece in pieces if piece.strip()]


def _mrkdwn(text: str, verbatim: bool) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True} if verbatim else {"type": "mrkdwn", "text": text}


def section(mrkdwn: str, *, verbatim: bool = False) -> Block:
    """A section; `verbatim`: Slack makes no links or mentions of the text's addresses and names."""
    return {"type": "section", "text": _mrkdwn(mrkdwn, verbatim)}


def sections(mrkdwn: str, *, verbatim: bool = False) -> list[Block]:
    """Formatted mrkdwn (already escaped) as sections of at most 3,000 characters."""
    return [section(part, verbatim=verbatim) for part in split_text(mrkdwn)]


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, MAX_HEADER) or "…", "emoji": True}}


def context(mrkdwn: str, *, verbatim: bool = False) -> Block:
    return {"type": "context", "elements": [_mrkdwn(truncate(mrkdwn, MAX_CONTEXT), verbatim)]}


def divider() -> Block:
    return {"type": "divider"}


def button(label: str, action_id: str, value: str, *, style: str | None = None) -> Block | None:
    """A button, or None when the value cannot fit (the owner can still type the answer)."""
    if len(value) > MAX_BUTTON_VALUE or len(action_id) > MAX_ACTION_ID:
        return None
    out: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": truncate(label, MAX_BUTTON_TEXT) or "…", "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        out["style"] = style
    return out


def actions(buttons: Sequence[Block | None], block_id: str | None = None) -> list[Block]:
    """Buttons in actions blocks of at most 25 elements."""
    present = [b for b in buttons if b is not None]
    blocks: list[Block] = []
    for start in range(0, len(present), MAX_ACTIONS):
        block: Block = {"type": "actions", "elements": present[start : start + MAX_ACTIONS]}
        if block_id:
            block["block_id"] = truncate(f"{block_id}.{start // MAX_ACTIONS}", MAX_ACTION_ID)
        blocks.append(block)
    return blocks


def paginate(blocks: list[Block], limit: int = MAX_BLOCKS) -> list[list[Block]]:
    """Split a long list of blocks over several messages of at most `limit` blocks."""
    if not blocks:
        return []
    return [blocks[i : i + limit] for i in range(0, len(blocks), limit)]


def fallback(text: str) -> str:
    """Plain notification text for a message (chat.postMessage `text`)."""
    return truncate(text.strip(), MAX_FALLBACK) or "…"


# ---------------------------------------------------------------------- the interview


def answer_value(step: str | None, value: str) -> str:
    """The button value: the step it belongs to and the option, so a stale tap is recognised."""
    return json.dumps({"s": step, "v": value}, ensure_ascii=False, separators=(",", ":"))


def parse_answer_value(raw: str) -> tuple[str | None, str]:
    data = json.loads(raw)
    return data.get("s"), str(data["v"])


def progress_text(lang: str, reply: Reply) -> str:
    p = reply.progress
    if p is None:
        return ""
    section_name = str(prompts.load(lang, "messages").get("sections", {}).get(p.section, ""))  # tolerate new sections
    if p.stage_index:
        return t(
            lang,
            "progress_stage",
            section=section_name,
            stage_index=p.stage_index,
            stage_count=p.stage_count,
            stage=escape(p.stage_name),
            answered=p.answered,
            total=p.total,
        )
    return t(lang, "progress", section=section_name, answered=p.answered, total=p.total)


def question_blocks(lang: str, reply: Reply) -> list[Block]:
    """A question: its text, the progress line, and buttons for its choices (1..5 on one row)."""
    if reply.kind == "ratings" and reply.data.get("touchpoints"):
        blocks = ratings_blocks(lang, reply)
        if len(blocks) <= MAX_BLOCKS:
            return blocks
    blocks = escaped_sections(reply.text)
    progress = progress_text(lang, reply)
    if progress:
        blocks.append(context(progress))
    selected = set(reply.data.get("selected", ()))
    buttons = [
        button(
            ("✔ " if o.value in selected else "") + o.label,
            f"{ANSWER_ACTION}.{index}",
            answer_value(reply.step, o.value),
            style="primary" if o.value in selected else None,
        )
        for index, o in enumerate(reply.choices)
    ]
    blocks.extend(actions(buttons, block_id=f"q.{reply.step or 'x'}"))
    return blocks


def ratings_blocks(lang: str, reply: Reply) -> list[Block]:
    """A stage's ratings in one message: the question, per touchpoint a section with its name and a
    select 1..5 (its rating preselected), then Done and I don't know. Choosing a rating sends
    `rate:<index>=<score>`; the engine asks again and the adapter updates this message in place."""
    touchpoints = list(reply.data.get("touchpoints") or ())
    blocks = escaped_sections(_without_rating_lines(lang, reply.text, touchpoints))
    progress = progress_text(lang, reply)
    if progress:
        blocks.append(context(progress))
    scale = [(str(s.get("value")), str(s.get("label") or s.get("value"))) for s in reply.data.get("scale") or ()]
    scale = scale or [(v, v) for v in ("1", "2", "3", "4", "5")]
    for touchpoint in touchpoints:
        index = int(touchpoint["index"])
        current = touchpoint.get("value")
        options = [
            {"text": {"type": "plain_text", "text": truncate(label, MAX_OPTION_TEXT), "emoji": True}, "value": rating_value(reply.step, index, score)}
            for score, label in scale
        ]
        select: Block = {
            "type": "static_select",
            "action_id": f"{RATE_ACTION}.{index}",
            "placeholder": {"type": "plain_text", "text": truncate(t(lang, "ratings_placeholder"), MAX_PLACEHOLDER), "emoji": True},
            "options": options,
        }
        chosen = [o for o, (score, _) in zip(options, scale) if current is not None and str(current) == score]
        if chosen:
            select["initial_option"] = chosen[0]
        # The block id changes with the rating: Slack clients keep a select's old choice otherwise.
        blocks.append({
            "type": "section",
            "block_id": f"rate.{index}.{current or 0}",
            "text": {"type": "mrkdwn", "text": truncate(f"*{index}.* {escape(str(touchpoint.get('name') or ''))}", MAX_SECTION)},
            "accessory": select,
        })
    buttons = [
        button(o.label, f"{ANSWER_ACTION}.{i}", answer_value(reply.step, o.value), style="primary" if o.value == "__done__" else None)
        for i, o in enumerate(reply.choices)
    ]
    blocks.extend(actions(buttons, block_id=f"q.{reply.step or 'x'}"))
    blocks.append(context(t(lang, "ratings_hint")))
    return blocks


def rating_value(step: str | None, index: int, score: str) -> str:
    """A select option's value (at most 150 characters): the step, or its short token, and the rating."""
    value = answer_value(step, f"{RATE_PREFIX}{index}={score}")
    return value if len(value) <= MAX_OPTION_VALUE else answer_value(step_token(step or ""), f"{RATE_PREFIX}{index}={score}")


def _without_rating_lines(lang: str, text: str, touchpoints: Sequence[dict[str, Any]]) -> str:
    """The question without the lines listing the touchpoints: their sections show them."""
    lines = set()
    for tp in touchpoints:
        value = tp.get("value")
        lines.add(prompts.say(lang, "messages", "ratings.line", index=tp.get("index"), touchpoint=tp.get("name"), score="·" if value is None else value))
    return "\n".join(line for line in text.split("\n") if line not in lines)


def answered_blocks(lang: str, question: list[Block], label: str) -> list[Block]:
    """The question message after a tap: the same text, the answer, no buttons (and no selects)."""
    kept = [without_controls(b) for b in question if b.get("type") in ("section", "context", "header")]
    return kept[: MAX_BLOCKS - 1] + [section(t(lang, "chosen", answer=escape(truncate(label, 500))))]


def without_controls(block: Block) -> Block:
    """A block without its accessory (a select next to a section's text)."""
    return {k: v for k, v in block.items() if k != "accessory"}


def label_of(blocks: list[Block], action_id: str, fallback_label: str) -> str:
    for block in blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == action_id:
                text = element.get("text", {}).get("text", "")
                return text.removeprefix("✔ ")
    return fallback_label


def _marked(reply: Reply) -> str:
    return (":warning: " + reply.text) if reply.type == "error" else reply.text


def text_blocks(reply: Reply) -> list[Block]:
    """An info or error reply: escaped engine text (it can quote the owner); an error is marked as one."""
    return escaped_sections(_marked(reply))


def notification_text(reply: Reply) -> str:
    """The escaped notification text of an info or error reply, marked like its blocks."""
    return escape(_marked(reply))


def message_blocks(lang: str, reply: Reply) -> list[Block]:
    if reply.type == "question":
        return question_blocks(lang, reply)
    return text_blocks(reply)


def help_blocks(lang: str) -> list[Block]:
    return sections(t(lang, "help"))


# ---------------------------------------------------------------------- the summary


def report_blocks(lang: str, report: Report, title: str, team: list[Block] | None = None) -> list[Block]:
    """A readable Block Kit summary, section by section (bot.report_sections). Long reports are split by
    `paginate` afterwards. `team` is ignored: the team's scores come from the report itself."""
    blocks: list[Block] = [header(t(lang, "report.header", title=title))]
    for section in report_sections(report, lang):
        if not section.items:
            continue
        if section.key in ("notice", "review"):  # one small line each, at the top and at the bottom
            text = truncate(" ".join(line for item in section.items for line in item.body), MAX_CONTEXT // 2)
            blocks.append(context(f"*{escape(section.heading)}:* {_data(text)}", verbatim=True))
            continue
        if section.key != "summary":
            blocks.append(divider())
        lines = [f"*{escape(section.heading)}*"] + ([f"_{escape(section.intro)}_"] if section.intro else [])
        if section.layout == "paragraphs":
            text = "\n".join(lines) + "\n" + "\n\n".join(_data(line) for item in section.items for line in item.body)
            blocks.extend(sections(text, verbatim=True))
            continue
        lines += [_card(item) if section.layout == "cards" else _line(item) for item in section.items]
        blocks.extend(sections("\n".join(lines), verbatim=True))
    return blocks


def _data(text: str) -> str:
    """Report text (a model may have written it) as mrkdwn: escaped, and every address in `code`, so
    that no client makes a link of it."""
    return "".join(f"`{escape(piece)}`" if is_link else escape(piece) for piece, is_link in split_links(text))


def _card(item: Item) -> str:
    """An improvement or a WOW moment: the title in bold, then the why, the details and the quote."""
    first = (f"{item.number}. " if item.number is not None else "• ") + _bold(item.title)
    rest = [_data(line) for line in item.body] + [f"_{_data(line)}_" for line in (item.meta, item.quote) if line.strip()]
    return "\n".join([first, *(f"   {line}" for line in rest)])


def _line(item: Item) -> str:
    """One line of a list; teammates are mentioned by their Slack user id when the report knows it."""
    prefix = " ".join(p for p in (item.mark, f"{item.number}." if item.number is not None else "") if p) or "•"
    body = " · ".join(_data(line) for line in item.body)
    if item.people and item.template:
        named = ", ".join(f"{_mention(who)} {escape(score)}" for who, score in item.people)
        body = escape(item.template).replace(PEOPLE, named)
    text = " – ".join(p for p in (_bold(item.title), body) if p)
    return f"{prefix} {text}" + (f"\n   _{_data(item.meta)}_" if item.meta.strip() else "")


def _bold(text: str) -> str:
    return f"*{_data(text)}*" if text.strip() else ""


_SLACK_USER = re.compile(r"[UW][A-Z0-9]{1,30}")  # a user id such as U012AB3CD


def _mention(who: str) -> str:
    return f"<@{who}>" if _SLACK_USER.fullmatch(who) else escape(who)


def team_blocks(lang: str, rows: Iterable[Any], added: Iterable[Any], disagreement: int) -> list[Block]:
    """Kept for callers not yet updated: the team's scores are part of `report_blocks` now (report.team)."""
    return []


# ---------------------------------------------------------------------- contributions


def contrib_value(**fields: Any) -> str:
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def choice_buttons(options: Sequence[Option], action: str) -> list[Block]:
    return actions([button(o.label, f"{action}.{i}", o.value) for i, o in enumerate(options)])
