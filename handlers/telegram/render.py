"""Neutral replies and reports -> Telegram HTML messages and inline keyboards.

Rules: every owner or engine text is escaped with `html.escape`; text is split
first (plain), then escaped and wrapped in tags, so no message is ever cut inside
a tag or an entity; each message stays under Telegram's 4,096 characters (counted
in UTF-16 code units, on the HTML itself, which is stricter than Telegram).

The report is data (a language model may have written it): an address in it (a URL, a bare
domain, an e-mail address, an @username) is set in <code>, inside which Telegram makes no link,
and every message goes out with link previews off (`DEFAULTS`).
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.ext import Defaults

import prompts
from bot.events import step_token
from bot.replies import Option, Reply
from bot.report import Report
from bot.report_sections import Item, report_sections
from handlers.kit.links import split_links

MAX_MESSAGE = 4096
MAX_CALLBACK_BYTES = 64
CALLBACK_PREFIX = "a"
LABEL_PREFIX = "n"  # a button that only names a row (a touchpoint above its ratings): a tap does nothing
RATE_PREFIX = "rate:"
RATE_MARK = "•"
SPECIAL_VALUES = ("__dont_know__", "__keep__", "__done__", "__skip__")

Segment = tuple[str | None, str]  # (tag or None, plain text)
Block = list[Segment]

# Every message without a link preview: a model's reply or an answer must not put a page in the chat.
DEFAULTS = Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True))


def say(lang: str, key: str, **values: Any) -> str:
    return prompts.say(lang, "telegram", key, **values)


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def segment_html(tag: str | None, text: str) -> str:
    body = escape(text)
    return f"<{tag}>{body}</{tag}>" if tag and body else body


def block_html(block: Iterable[Segment]) -> str:
    return "".join(segment_html(tag, text) for tag, text in block)


def _fit(text: str, room: int) -> int:
    """How many characters of `text` fit in `room` units once escaped; prefers a line or word break."""
    used = 0
    n = 0
    for ch in text:
        cost = units(escape(ch))
        if used + cost > room:
            break
        used += cost
        n += 1
    if n >= len(text) or n == 0:
        return n
    for sep in ("\n", " "):
        cut = text.rfind(sep, 0, n)
        if cut >= n // 2:
            return cut + 1
    return n


def split_block(block: Sequence[Segment], limit: int = MAX_MESSAGE) -> list[str]:
    """One block as one or more HTML strings of at most `limit` units, cut only between characters."""
    whole = block_html(block)
    if units(whole) <= limit:
        return [whole]
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for tag, text in block:
        overhead = (2 * len(tag) + 5) if tag else 0
        while text:
            room = limit - used - overhead
            n = _fit(text, room) if room > 0 else 0
            if n == 0:
                if not current:  # cannot happen for sane limits; avoid looping forever
                    raise ValueError("limit too small")
                parts.append("".join(current).rstrip("\n"))
                current, used = [], 0
                continue
            piece = segment_html(tag, text[:n])
            current.append(piece)
            used += units(piece)
            text = text[n:]
            if text:
                parts.append("".join(current).rstrip("\n"))
                current, used = [], 0
    if current:
        parts.append("".join(current))
    return [p for p in parts if p.strip()]


def pack(blocks: Iterable[Sequence[Segment]], limit: int = MAX_MESSAGE, sep: str = "\n\n") -> list[str]:
    """Blocks joined by blank lines into as few messages as fit; a block is split only if it alone is too long."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        for piece in split_block(block, limit):
            if not piece:
                continue
            candidate = f"{current}{sep}{piece}" if current else piece
            if units(candidate) <= limit:
                current = candidate
            else:
                if current:
                    messages.append(current)
                current = piece
    if current:
        messages.append(current)
    return messages


# ---------------------------------------------------------------------------- replies
def progress_line(lang: str, reply: Reply) -> str:
    p = reply.progress
    if p is None:
        return ""
    section = str(prompts.load(lang, "messages").get("sections", {}).get(p.section, p.section))
    if p.stage_index:
        return say(
            lang,
            "progress_stage",
            section=section,
            stage_index=p.stage_index,
            stage_count=p.stage_count,
            stage=p.stage_name,
            answered=p.answered,
            total=p.total,
        )
    return say(lang, "progress", section=section, answered=p.answered, total=p.total)


def reply_blocks(lang: str, reply: Reply) -> list[Block]:
    """The text of one engine reply as blocks (progress header in italics for questions)."""
    blocks: list[Block] = []
    if reply.type == "question" and reply.kind == "ratings" and reply.data.get("touchpoints"):
        # the engine's text lists the steps with their current rating and says how to type them
        hint: list[Segment] = [(None, "\n\n"), ("i", say(lang, "ratings_hint"))]
        header = progress_line(lang, reply) if reply.progress is not None else ""
        if header:
            return [[("i", header), (None, "\n" + reply.text), *hint]]
        return [[(None, reply.text), *hint]]
    if reply.type == "question" and reply.progress is not None:
        header = progress_line(lang, reply)
        if header:
            return [[("i", header), (None, "\n" + reply.text)]]
    if reply.type == "error":
        blocks.append([(None, "⚠️ " + reply.text)])
    else:
        blocks.append([(None, reply.text)])
    return blocks


def reply_messages(lang: str, reply: Reply) -> list[str]:
    return pack(reply_blocks(lang, reply))


def chosen_suffix(lang: str, label: str) -> str:
    return "\n\n<b>" + escape(say(lang, "chosen", answer=label)) + "</b>"


# ---------------------------------------------------------------------------- buttons
def step_field(step: str) -> str:
    """The step key if it fits in callback data with any option value; a short token otherwise."""
    return step if len(step.encode("utf-8")) <= 30 else step_token(step)


def callback_data(step: str, value: str) -> str | None:
    data = f"{CALLBACK_PREFIX}|{step_field(step)}|{value}"
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        data = f"{CALLBACK_PREFIX}|{step_token(step)}|{value}"
    return data if len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES else None


@dataclass(frozen=True)
class Tap:
    step: str  # full step key or step token
    value: str


def parse_callback(data: str | None) -> Tap | None:
    if not data:
        return None
    prefix, sep, rest = data.partition("|")
    if prefix != CALLBACK_PREFIX or not sep:
        return None
    step, sep, value = rest.partition("|")
    if not sep or not step:
        return None
    return Tap(step, value)


def _rows(options: Sequence[Option], labels: Sequence[str]) -> list[list[int]]:
    longest = max((len(label) for label in labels), default=0)
    per_row = 5 if longest <= 5 else 3 if longest <= 10 else 2 if longest <= 20 else 1
    indices = list(range(len(options)))
    return [indices[i : i + per_row] for i in range(0, len(indices), per_row)]


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """Buttons for a question's choices; special answers (don't know, skip, done) on their own row."""
    if reply.type != "question" or not reply.choices or not reply.step:
        return None
    if reply.kind == "ratings" and reply.data.get("touchpoints"):
        return ratings_keyboard(reply)
    selected = set(reply.data.get("selected") or ())
    main = [o for o in reply.choices if o.value not in SPECIAL_VALUES]
    extra = [o for o in reply.choices if o.value in SPECIAL_VALUES]

    def button(option: Option) -> InlineKeyboardButton | None:
        data = callback_data(reply.step or "", option.value)
        if data is None:
            return None
        label = ("✓ " + option.label) if option.value in selected else option.label
        return InlineKeyboardButton(label[:64] or option.value, callback_data=data)

    rows: list[list[InlineKeyboardButton]] = []
    labels = [o.label for o in main]
    for row in _rows(main, labels):
        buttons = [b for b in (button(main[i]) for i in row) if b is not None]
        if buttons:
            rows.append(buttons)
    if extra:
        buttons = [b for b in (button(o) for o in extra) if b is not None]
        rows.extend([buttons] if sum(len(o.label) for o in extra) <= 30 else [[b] for b in buttons])
    return InlineKeyboardMarkup(rows) if rows else None


def ratings_keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """A stage's ratings: per touchpoint a row naming it and a row 1..5 (its rating marked "•4"),
    then Done and I don't know. Each tap sends `rate:<index>=<score>`; the engine asks again with
    the new rating and the adapter edits this message in place."""
    step = reply.step or ""
    scale = [str(s.get("value")) for s in reply.data.get("scale") or ()] or ["1", "2", "3", "4", "5"]
    rows: list[list[InlineKeyboardButton]] = []
    for touchpoint in reply.data.get("touchpoints") or ():
        index = int(touchpoint["index"])
        current = touchpoint.get("value")
        name = f"{index}. {touchpoint.get('name') or ''}".strip()
        rows.append([InlineKeyboardButton(name[:64], callback_data=f"{LABEL_PREFIX}|{step_field(step)}|{index}")])
        buttons = []
        for score in scale:
            data = callback_data(step, f"{RATE_PREFIX}{index}={score}")
            if data is None:
                continue
            chosen = current is not None and str(current) == score
            buttons.append(InlineKeyboardButton(f"{RATE_MARK}{score}" if chosen else score, callback_data=data))
        if buttons:
            rows.append(buttons)
    extra = [b for b in (_special_button(step, o) for o in reply.choices if o.value in SPECIAL_VALUES) if b is not None]
    if extra:
        rows.append(extra)
    return InlineKeyboardMarkup(rows) if rows else None


def _special_button(step: str, option: Option) -> InlineKeyboardButton | None:
    data = callback_data(step, option.value)
    return InlineKeyboardButton(option.label[:64] or option.value, callback_data=data) if data else None


def button_label(markup: Any, data: str) -> str | None:
    """The text of the button with `data` in a message's inline keyboard (from the callback's message)."""
    for row in getattr(markup, "inline_keyboard", ()) or ():
        for button in row:
            if button.callback_data == data:
                text = str(button.text)
                return text[2:] if text.startswith("✓ ") else text
    return None


# ---------------------------------------------------------------------------- the report
def report_blocks(report: Report, lang: str | None = None) -> list[Block]:
    """A bot.report.Report as blocks, section by section (bot.report_sections): every heading in bold."""
    blocks: list[Block] = []
    for section in report_sections(report, lang):
        if not section.items:
            continue
        if section.key == "notice":
            blocks.append([("b", f"{section.heading}: "), ("i", " ".join(line for item in section.items for line in item.body))])
            continue
        if section.key == "review":
            blocks.append([("b", section.heading + "\n"), ("i", "\n".join(line for item in section.items for line in item.body))])
            continue
        heading: Block = [("b", section.heading)]
        blocks.append(heading + ([("i", "\n" + section.intro)] if section.intro else []))
        if section.layout == "paragraphs":
            blocks.extend([[(None, line)] for item in section.items for line in item.body])
        elif section.layout == "cards":
            blocks.extend(_card(item) for item in section.items)
        else:
            blocks.append([segment for item in section.items for segment in _line(item)])
    return [_unlinked(_trim(b)) for b in blocks if any(text.strip() for _, text in b)]


def _unlinked(block: Block) -> Block:
    """The block with every address in its own <code> segment: shown as text, never a link."""
    out: Block = []
    for tag, text in block:
        out += [("code" if is_link else tag, piece) for piece, is_link in split_links(text)]
    return out


def _card(item: Item) -> Block:
    """An improvement or a WOW moment: its title in bold, then the why, the details and the quote."""
    block: Block = [(None, f"{item.number}. " if item.number is not None else "✨ "), ("b", item.title)]
    block += [(None, f"\n{line}") for line in item.body]
    block += [("i", f"\n{line}") for line in (item.meta, item.quote) if line]
    return block


def _line(item: Item) -> Block:
    """One line of a list (a check, a calendar row, a change, a to-do, a team score), ending in a line break."""
    prefix = " ".join(p for p in (item.mark, f"{item.number}." if item.number is not None else "") if p) or "•"
    block: Block = [(None, prefix + " ")]
    if item.title:
        block.append(("b", item.title))
    body = " · ".join(item.body)
    if body:
        block.append((None, (" – " if item.title else "") + body))
    if item.meta:
        block.append(("i", "\n" + item.meta))
    block.append((None, "\n"))
    return block


def _trim(block: Block) -> Block:
    if block and block[-1][1].endswith("\n"):
        tag, text = block[-1]
        block = [*block[:-1], (tag, text.rstrip("\n"))]
    return block


def report_messages(report: Report, lang: str | None = None) -> list[str]:
    return pack(report_blocks(report, lang))
