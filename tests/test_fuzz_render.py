"""Hypothesis over every renderer, fed with whole journeys typed in any unicode.

tests/test_telegram_render.py, tests/test_slack_render.py and tests/test_export.py check the
splitters and escapers with small alphabets and one answer at a time. Here the input is what the
engine really says back (questions quoting the owner's stage and touchpoint names, current
answers, progress lines) and reports built from whole random journeys, with the full range of
unicode (astral characters count twice in Telegram's UTF-16 limit):

- Telegram: every message part is well-formed HTML (html.parser, balanced allowed tags, entities
  only &lt; &gt; &amp; &quot;), at most 4,096 UTF-16 units, nothing of the text lost; callback data
  at most 64 bytes;
- Slack: owner text escaped (every '<' starts a Slack control sequence, every '&' an entity),
  every message page within Block Kit's limits;
- markdown export: tables keep their columns, the Mermaid block stays parseable.
"""
from __future__ import annotations

import html
import re
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import engine
from bot.coach import build_report
from bot.report_sections import long_date
from bot.events import Choice, Start, Text
from bot.export import render_markdown
from bot.journey import JourneyView, build_view
from bot.replies import Option, Progress, Reply
from bot.report import CalendarRow, CustomerCheck, Improvement, MistakeCheck, Report, TeamScore, TodoLine, WowMoment
from bot.summary_text import report_text
from handlers.slack import render as slack
from handlers.telegram import render as telegram
from devkit.fakes.slack_api import check_blocks
from devkit.fakes.telegram_api import _check_html, visible_text
from tests.test_export import assert_intact
from tests.test_fuzz_engine import Harness

TODAY = date(2026, 11, 23)
NASTY = list("<>&;:#|`*_~[]()\\\"'\n\t ") + ["&amp;", "</b>", "<b>", "&lt;", "<@U1>", "<!here>", "```", "%%", "{x}", "😀", "👩‍👩‍👧", "\u202e", "\u200b", "𝔘"]
owner_text = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(NASTY + list("ab é")), max_size=60).map("".join),
)
long_text = st.one_of(owner_text, st.text(min_size=500, max_size=5000), st.lists(st.lists(st.sampled_from(NASTY), min_size=1, max_size=25).map("".join), min_size=20, max_size=150).map(" ".join))
dense = st.lists(st.sampled_from(["<", ">", "&", "&amp;", "<b>", "a", "😀"]), min_size=300, max_size=2000).map("".join)  # no spaces, no line breaks
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])


# -- whole journeys typed in random unicode ------------------------------------------------------
def typed_journey(data: st.DataObject, lang: str) -> tuple[JourneyView, list[Reply]]:
    """Answer every question the engine asks; free text and list items are random unicode."""
    harness = Harness()
    outcome = harness.step(Start(lang_hint=lang))
    replies = list(outcome.replies)
    for _ in range(300):
        if harness.state.complete:
            break
        questions = [r for r in outcome.replies if r.type == "question"]
        if not questions:
            outcome = harness.step(Start(lang_hint=lang))
            continue
        q = questions[-1]
        values = [o.value for o in q.choices if o.value not in (engine.DONE, engine.SKIP)]
        if q.kind in ("short_text", "long_text") or (q.kind == "single_choice" and data.draw(st.booleans())):
            event: Any = Text(data.draw(owner_text.filter(lambda s: s.strip() and not s.strip().startswith("/"))) + " words here")
        elif q.kind == "list" and not (q.step or "").startswith("meta."):
            items = data.draw(st.lists(owner_text.map(lambda s: re.sub(r"[,;\n/]", " ", s)).filter(lambda s: 0 < len(s.strip()) <= 150), min_size=1, max_size=3))
            event = Text(", ".join(items))
        elif q.kind == "multi_choice":
            picks = [v for v in values if v != engine.DONT_KNOW] or values
            harness.step(Choice(data.draw(st.sampled_from(picks)), q.step))
            event = Choice(engine.DONE, q.step)
        elif q.kind == "ratings":  # every touchpoint rated in one line, what goes wrong in random unicode after a dash
            count = len(q.data["touchpoints"])
            if data.draw(st.booleans()):  # a tapped score first: the question comes back with it shown
                tapped = harness.step(Choice(f"rate:{data.draw(st.integers(1, count))}={data.draw(st.integers(1, 5))}", q.step))
                replies += tapped.replies
            scores = " ".join(str(data.draw(st.integers(1, 5))) for _ in range(count))
            pain = data.draw(owner_text).replace("\n", " ").strip()
            event = Text(f"{scores} - {pain}" if pain else scores)
        else:
            event = Choice(data.draw(st.sampled_from(values)), q.step)
        outcome = harness.step(event)
        replies += outcome.replies
    view = build_view(harness.state.answers, lang, 1)
    return view, replies


# -- checks ------------------------------------------------------------------------------------
class _Balanced(HTMLParser):
    ALLOWED = {"b", "i", "u", "s", "code", "pre", "a", "blockquote", "tg-spoiler"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        assert tag in self.ALLOWED, tag
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"

    def handle_entityref(self, name: str) -> None:
        assert name in ("lt", "gt", "amp", "quot"), name

    def handle_charref(self, name: str) -> None:
        pass


def check_telegram_html(part: str) -> None:
    assert 0 < telegram.units(part) <= 4096, telegram.units(part)
    _check_html(part)  # what the fake Bot API rejects, as Telegram does
    parser = _Balanced()
    parser.feed(part)
    parser.close()
    assert not parser.stack, f"unclosed {parser.stack}"


def check_telegram_reply(reply: Reply, lang: str) -> None:
    parts = telegram.reply_messages(lang, reply)
    for part in parts:
        check_telegram_html(part)
    shown = "".join(visible_text(p) for p in parts)
    for word in reply.text.split():
        if len(word) < 40:
            assert word in shown or html.unescape(word) in shown, f"{word!r} lost"
    markup = telegram.keyboard(reply)
    for row in (markup.inline_keyboard if markup else ()):
        for button in row:
            assert button.text
            assert button.callback_data is None or 1 <= len(button.callback_data.encode("utf-8")) <= 64


SLACK_CONTROL = re.compile(r"<(?:[@#!]|https?://)[^<>]*>")
SLACK_ENTITY = re.compile(r"&(?:amp|lt|gt);")


def check_mrkdwn(text: str) -> None:
    bare = SLACK_CONTROL.sub("", text)
    assert "<" not in bare and ">" not in bare, f"unescaped angle bracket in {text[:200]!r}"
    assert len(re.findall("&", bare)) == len(SLACK_ENTITY.findall(bare)), f"bare & in {text[:200]!r}"


def check_slack_blocks(blocks: list[dict[str, Any]]) -> None:
    pages = slack.paginate(blocks)
    for page in pages:
        assert check_blocks(page) is None, check_blocks(page)
    for block in blocks:
        texts = []
        if block.get("type") in ("section",) and block.get("text", {}).get("type") == "mrkdwn":
            texts.append(block["text"]["text"])
        if block.get("type") == "context":
            texts += [e.get("text", "") for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
        for text in texts:
            check_mrkdwn(text)


# -- the tests -----------------------------------------------------------------------------------
@settings(FAST, max_examples=40)
@given(data=st.data(), lang=st.sampled_from(["en", "nl"]))
def test_whole_random_journeys_render_safely_everywhere(data: st.DataObject, lang: str) -> None:
    view, replies = typed_journey(data, lang)
    for reply in replies:
        if reply.text.strip():
            check_telegram_reply(reply, lang)
        check_slack_blocks(slack.message_blocks(lang, reply))
    report = build_report(view, TODAY)
    for part in telegram.report_messages(report, lang):
        check_telegram_html(part)
    check_slack_blocks(slack.report_blocks(lang, report, view.title))
    markdown = render_markdown(view, report, today=TODAY.isoformat())
    assert_intact(markdown)
    if view.touchpoints():  # every stage's touchpoints were rated
        assert all(tp.score is not None for _, tp in view.touchpoints())
        assert "```mermaid" in markdown
    assert any(r.kind == "ratings" for r in replies) == bool(view.touchpoints())


options = st.lists(st.builds(Option, value=st.text(max_size=30), label=owner_text.filter(str.strip)), max_size=30)  # labels come from prompts: never empty
progress = st.one_of(st.none(), st.builds(Progress, section=st.sampled_from(["intro", "persona", "stages", "stage", "weird"]),
                                         stage_index=st.integers(0, 12), stage_count=st.integers(0, 12), stage_name=owner_text,
                                         answered=st.integers(0, 300), total=st.integers(0, 300)))


@settings(FAST, max_examples=100)
@given(text=long_text, step=st.one_of(st.none(), st.text(max_size=220)), kind=st.sampled_from(["single_choice", "multi_choice", "scale", "short_text", "list"]),
       choices=options, progress=progress, lang=st.sampled_from(["en", "nl"]), kind_of=st.sampled_from(["question", "info", "error"]))
def test_any_reply_renders_within_limits(text: str, step: str | None, kind: str, choices: list[Option], progress: Progress | None, lang: str, kind_of: str) -> None:
    selected = [o.value for o in choices[:3]]
    reply = Reply(type=kind_of, text=text, step=step if kind_of == "question" else None, kind=kind if kind_of == "question" else None,
                  choices=tuple(choices) if kind_of == "question" else (), progress=progress, lang=lang,
                  data={"selected": selected} if kind == "multi_choice" else {})
    if text.strip():
        check_telegram_reply(reply, lang)
    check_slack_blocks(slack.message_blocks(lang, reply))


levels = st.sampled_from(["low", "medium", "high"])
reports = st.builds(
    Report,
    language=st.sampled_from(["nl", "en"]),
    summary=st.lists(long_text, max_size=6),
    improvements=st.lists(st.builds(Improvement, title=owner_text, why=long_text, step=owner_text, trigger=owner_text, effort=levels, impact=levels), max_size=12),
    wow_moments=st.lists(st.builds(WowMoment, stage=owner_text, idea=long_text, why=owner_text, cost=owner_text, trigger=owner_text), max_size=8),
    mistakes=st.lists(st.builds(MistakeCheck, number=st.integers(1, 7), title=owner_text, ok=st.booleans(), note=long_text), max_size=7),
    calendar=st.lists(st.builds(CalendarRow, stage=owner_text, channel=owner_text, idea=owner_text), max_size=20),
    review_date=st.just("2026-12-23"),
    missing=st.lists(owner_text, max_size=40),
    notice=owner_text,
    changes=st.lists(owner_text, max_size=20),
    customer_check=st.lists(st.builds(CustomerCheck, stage=owner_text, owner=st.one_of(st.none(), st.floats(1, 5)), customers=st.floats(1, 5), responses=st.integers(1, 500)), max_size=8),
    todos=st.lists(st.builds(TodoLine, id=st.integers(1, 999), kind=st.sampled_from(["improvement", "wow"]), title=owner_text, status=st.sampled_from(["open", "planned", "done", "dropped", "odd"])), max_size=30),
    team=st.lists(st.builds(TeamScore, stage=owner_text, touchpoint=owner_text, owner=st.one_of(st.none(), st.integers(1, 5)), scores=st.lists(st.integers(1, 5), min_size=1, max_size=6),
                            disagree=st.booleans(), teammates=st.lists(st.one_of(st.just("U0123ABC"), owner_text), max_size=6)), max_size=15),
    team_added=st.lists(owner_text, max_size=10),
)


@settings(FAST, max_examples=60)
@given(report=reports, title=owner_text)
def test_any_report_renders_within_limits(report: Report, title: str) -> None:
    """An LLM writes these texts: whatever it says must still render (and be escaped)."""
    for part in telegram.report_messages(report, report.language):
        check_telegram_html(part)
    check_slack_blocks(slack.report_blocks(report.language, report, title))
    assert_intact(render_markdown(build_view({}, report.language, 1), report, today=TODAY.isoformat()))
    assert long_date(report.review_date, report.language) in report_text(report, report.language)  # "23 december 2026"


@settings(FAST, max_examples=40)
@given(text=dense)
def test_telegram_long_runs_of_markup_characters_without_spaces(text: str) -> None:
    check_telegram_reply(Reply(type="info", text=text), "en")


@pytest.mark.parametrize("text", ["<" * 3000, "a&" * 1500 + "<b>" * 200])
def test_slack_long_runs_of_markup_characters_without_spaces(text: str) -> None:
    blocks = slack.escaped_sections(text)
    check_slack_blocks(blocks)
    joined = "".join(slack.unescape(b["text"]["text"]) for b in blocks)
    assert joined == text, "text lost"
