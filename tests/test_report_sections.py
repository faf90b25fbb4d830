"""One report, every renderer: Telegram, Slack, the terminal and the markdown file show every section.

A report with every section filled is rendered four times per language; each section's heading and
its first item must be in each output, so a section a renderer forgets fails by name
(e.g. `test_every_renderer_shows_every_section[slack-nl-todos]`).
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Callable

import pytest

import prompts
from bot.export import render_markdown
from bot.journey import build_view
from bot.report import Action, CalendarRow, CustomerCheck, Improvement, MistakeCheck, Report, TeamScore, TodoLine, WowMoment
from bot.report_sections import SECTION_KEYS, Item, report_sections
from bot.summary_text import report_text
from devkit.fakes.slack_api import check_blocks
from devkit.fakes.telegram_api import _check_html, visible_text
from handlers.slack import render as slack
from handlers.telegram import render as telegram


def full_report(lang: str) -> Report:
    """Every section filled; the texts are plain words, so every renderer shows them unchanged."""
    return Report(
        language=lang,
        summary=["Bakkerij Zon maps the journey of Petra", "The low point is the wait at the counter"],
        improvements=[
            Improvement(
                title="Shorten the queue",
                why="Waiting hurts",
                step="Purchase · Counter",
                trigger="too slow",
                effort="low",
                impact="high",
                actions=[Action(do="Offer pickup time slots", why="Paid orders skip the queue", effort="low", cost="up to 15 a month · an afternoon")],
                touchpoint="Purchase › Counter",
            )
        ],
        wow_moments=[WowMoment(stage="Loyalty", idea="A handwritten birthday card", why="Nobody expects it", cost="under 2 euro", trigger="regulars", touchpoint="Loyalty › Birthday")],
        mistakes=[MistakeCheck(number=n, title=f"Classic mistake {n}", ok=n % 2 == 0, note=f"note {n}") for n in range(1, 8)],
        calendar=[CalendarRow(stage="Awareness", channel="Instagram", idea="Reels of the oven at dawn", when="7 Dec")],
        review_date="2027-03-01",
        missing=["How Petra pays"],
        version=2,
        changes=["Changes since version 1", "new touchpoint Podcast interview"],
        customer_check=[CustomerCheck(stage="Consideration", owner=2.5, customers=2.0, responses=3), CustomerCheck(stage="", owner=3.0, customers=2.7, responses=3)],
        todos=[TodoLine(id=4, kind="improvement", title="Shorten the queue", status="planned")],
        team=[
            TeamScore(stage="Purchase", touchpoint="Checkout", owner=2, scores=[5], disagree=True, teammates=["U2"]),
            TeamScore(stage="Awareness", touchpoint="Flyer", owner=4, scores=[4, 3], disagree=False),
        ],
        team_added=["Awareness: Flyer at school"],
        notice="The offline coach wrote this summary",
    )


def probe(item: Item) -> str:
    """A text of the item that every renderer must show (tables show the cells, chats the title)."""
    if item.title and (not item.cells or item.title in item.cells):
        return item.title
    return item.cells[0] if item.cells else item.body[0]


def as_telegram(report: Report, lang: str) -> str:
    parts = telegram.report_messages(report, lang)
    for part in parts:
        assert telegram.units(part) <= telegram.MAX_MESSAGE
        _check_html(part)
    return "\n".join(visible_text(part) for part in parts)


def as_slack(report: Report, lang: str) -> str:
    blocks = slack.report_blocks(lang, report, "Bakkerij Zon")
    for page in slack.paginate(blocks):
        assert check_blocks(page) is None
    texts: list[str] = []
    for block in blocks:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts += [element.get("text", "") for element in block.get("elements", ())]
    return slack.unescape("\n".join(texts))


def as_terminal(report: Report, lang: str) -> str:
    return report_text(report, lang)


def as_markdown(report: Report, lang: str) -> str:
    view = build_view({}, lang, 1)
    return render_markdown(view, report, today="2026-11-23")


RENDERERS: dict[str, Callable[[Report, str], str]] = {"telegram": as_telegram, "slack": as_slack, "terminal": as_terminal, "markdown": as_markdown}


@lru_cache(maxsize=None)
def rendered(renderer: str, lang: str) -> str:
    return RENDERERS[renderer](full_report(lang), lang)


@lru_cache(maxsize=None)
def sections(lang: str) -> dict[str, Any]:
    return {section.key: section for section in report_sections(full_report(lang))}


def test_the_full_report_has_every_section_with_items() -> None:
    for lang in prompts.LANGUAGES:
        assert list(sections(lang)) == list(SECTION_KEYS)
        assert all(section.items for section in sections(lang).values())


@pytest.mark.parametrize("key", SECTION_KEYS)
@pytest.mark.parametrize("lang", prompts.LANGUAGES)
@pytest.mark.parametrize("renderer", list(RENDERERS))
def test_every_renderer_shows_every_section(renderer: str, lang: str, key: str) -> None:
    section = sections(lang)[key]
    text = rendered(renderer, lang)
    assert section.heading in text, f"{renderer} ({lang}) lacks the heading of {key}: {section.heading!r}"
    assert probe(section.items[0]) in text, f"{renderer} ({lang}) lacks the first item of {key}: {probe(section.items[0])!r}"


def test_headings_follow_the_language() -> None:
    assert sections("nl")["todos"].heading == "Takenlijst" and sections("en")["todos"].heading == "To-do list"
    assert "Jij" in sections("nl")["customers"].columns and "2,5" in sections("nl")["customers"].items[0].cells
    assert "2.5" in sections("en")["customers"].items[0].cells
    assert sections("nl")["customers"].items[1].title == "totaal"
    assert sections("nl")["todos"].items[0].cells == ("4", "gepland", "Shorten the queue")


def test_teammates_are_mentioned_in_slack_only() -> None:
    assert "<@U2> 5" in rendered("slack", "en") and "you 2" in rendered("slack", "en")
    assert "U2" not in rendered("telegram", "en") and "U2" not in rendered("markdown", "en")
    assert "| Purchase | Checkout | 2 | 5 | ⚠️ differ by 2 or more |" in rendered("markdown", "en")
    assert "Het team is het oneens (scores van 2 tot 5)" in rendered("telegram", "nl")


def test_slack_ignores_the_team_blocks_of_old_callers() -> None:
    report = full_report("en")
    assert slack.report_blocks("en", report, "Zon", [slack.section("old team view")]) == slack.report_blocks("en", report, "Zon")
    assert "old team view" not in json.dumps(slack.report_blocks("en", report, "Zon", [slack.section("old team view")]))


def test_sections_without_content_are_left_out_but_the_advice_stays() -> None:
    report = Report(language="en", summary=[], improvements=[], wow_moments=[], mistakes=[], calendar=[], review_date="2027-01-01")
    assert [s.key for s in report_sections(report)] == ["summary", "improvements", "wow", "mistakes", "calendar", "review"]
    assert "Improvements" not in as_telegram(report, "en")  # chats leave empty sections out ...
    assert "## Improvements\n\n–" in as_markdown(report, "en")  # ... the file says there is nothing


def keys(node: Any, prefix: str = "") -> set[str]:
    if isinstance(node, dict):
        return {k for key, value in node.items() for k in keys(value, f"{prefix}{key}.")} | {prefix}
    if isinstance(node, list):
        return {f"{prefix}[{len(node)}]"}
    return {prefix}


@pytest.mark.parametrize("name", ["report", "export", "telegram", "slack"])
def test_both_languages_have_the_same_keys(name: str) -> None:
    assert keys(prompts.load("nl", name)) == keys(prompts.load("en", name))


@pytest.mark.parametrize("lang", prompts.LANGUAGES)
@pytest.mark.parametrize("renderer", list(RENDERERS))
def test_every_renderer_shows_the_remedies_the_step_and_the_week(renderer: str, lang: str) -> None:
    """The parts of the advice beyond the titles: what to do and what it costs, where a WOW moment
    happens, and the week a piece of content is planned for."""
    text = rendered(renderer, lang)
    for part in ("Offer pickup time slots", "Paid orders skip the queue", "up to 15 a month · an afternoon", "Loyalty › Birthday", "7 Dec"):
        assert part in text, f"{renderer} ({lang}) lacks {part!r}"
