"""Neutral replies and reports -> Telegram HTML messages and inline keyboards.

Rules: every owner or engine text is escaped with `html.escape`; text is split
first (plain), then escaped and wrapped in tags, so no message is ever cut inside
a tag or an entity; each message stays under Telegram's 4,096 characters (counted
in UTF-16 code units, on the HTML itself, which is stricter than Telegram).
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

import prompts
from bot.events import step_token
from bot.replies import Option, Reply

MAX_MESSAGE = 4096
MAX_CALLBACK_BYTES = 64
CALLBACK_PREFIX = "a"
SPECIAL_VALUES = ("__dont_know__", "__keep__", "__done__", "__skip__")

Segment = tuple[str | None, str]  # (tag or None, plain text)
Block = list[Segment]


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


def button_label(markup: Any, data: str) -> str | None:
    """The text of the button with `data` in a message's inline keyboard (from the callback's message)."""
    for row in getattr(markup, "inline_keyboard", ()) or ():
        for button in row:
            if button.callback_data == data:
                text = str(button.text)
                return text[2:] if text.startswith("✓ ") else text
    return None


# ---------------------------------------------------------------------------- the report
def _level(lang: str, level: str) -> str:
    return str(prompts.load(lang, "telegram")["report"]["levels"].get(level, level))


def report_blocks(report: Any, lang: str | None = None) -> list[Block]:
    """A bot.report.Report as blocks: summary, improvements, WOW moments, mistakes, calendar, review."""
    lang = prompts.normalise_language(lang or getattr(report, "language", None))
    t = prompts.load(lang, "telegram")["report"]
    blocks: list[Block] = []
    if report.notice:
        blocks.append([("i", report.notice)])
    if report.summary:
        blocks.append([("b", t["summary"])])
        blocks.extend([[(None, p)] for p in report.summary if p.strip()])
    if report.improvements:
        blocks.append([("b", t["improvements"])])
        for n, imp in enumerate(report.improvements, start=1):
            block: Block = [
                (None, f"{n}. "),
                ("b", imp.title),
                (None, f" ({t['effort']}: {_level(lang, imp.effort)}, {t['impact']}: {_level(lang, imp.impact)})"),
            ]
            if imp.step:
                block.append(("i", f"\n{imp.step}"))
            if imp.why:
                block.append((None, f"\n{imp.why}"))
            if imp.trigger:
                block.append(("i", "\n" + say(lang, "report.because", trigger=imp.trigger)))
            blocks.append(block)
    if report.wow_moments:
        blocks.append([("b", t["wow"])])
        for wow in report.wow_moments:
            block = [(None, "✨ "), ("b", wow.stage), (None, f": {wow.idea}")]
            if wow.why:
                block.append((None, f"\n{wow.why}"))
            if wow.cost:
                block.append(("i", "\n" + say(lang, "report.cost", cost=wow.cost)))
            blocks.append(block)
    if report.mistakes:
        blocks.append([("b", t["mistakes"])])
        lines: Block = []
        for m in report.mistakes:
            mark = t["ok"] if m.ok else t["not_ok"]
            lines.append((None, f"{mark} {m.number}. "))
            lines.append(("b", m.title))
            lines.append((None, (f" – {m.note}" if m.note else "") + "\n"))
        blocks.append(lines)
    if report.calendar:
        blocks.append([("b", t["calendar"])])
        blocks.append(
            [seg for row in report.calendar for seg in (("b", f"{row.stage} · {row.channel}"), (None, f": {row.idea}\n"))]
        )
    if report.missing:
        blocks.append([("b", t["missing"])])
        blocks.append([(None, "\n".join(f"• {item}" for item in report.missing))])
    if report.review_date:
        blocks.append([("i", say(lang, "report.review", date=report.review_date))])
    return [_trim(b) for b in blocks if any(text.strip() for _, text in b)]


def _trim(block: Block) -> Block:
    if block and block[-1][1].endswith("\n"):
        tag, text = block[-1]
        block = [*block[:-1], (tag, text.rstrip("\n"))]
    return block


def report_messages(report: Any, lang: str | None = None) -> list[str]:
    return pack(report_blocks(report, lang))
