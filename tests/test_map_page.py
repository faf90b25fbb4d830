"""The journey map as one web page (bot/map_page.py), opened in a real headless browser.

Maps and reports come from the scripted businesses (Dutch and English), as the coach writes them.
The browser is Debian's Chromium through Playwright (devkit/browser.py): without it these tests
are skipped, unless JOURNEYBOT_REQUIRE_BROWSER=1 (CI), then they fail. The static tests at the end
need no browser.
"""
from __future__ import annotations

import dataclasses
import io
import re
from datetime import date
from html.parser import HTMLParser
from typing import Iterator

import pytest

from bot.coach import build_report
from bot.journey_map import JourneyMap, build_map
from bot.journey_map import labels as map_labels
from bot.map_page import render_html
from bot.report import Report
from bot.report_sections import texts as report_texts
from devkit.browser import chromium, png_size, require_browser, visit_html
from devkit.coach_cases import COACH_BUSINESSES, WEBSHOP_BUSINESS_EN, view_of
from devkit.scripts import Business

DESKTOP = (1280, 900)
PHONE = (360, 740)
A4_LANDSCAPE = (1062, 760)  # CSS pixels inside the page's margins (297 mm less 2 × 8 mm)
TODAY = "2026-12-01"
LONG_NAME = "Een heel lange naam " + "x" * 280
HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "section",
    "title",
    "Café ☕ & “quotes” 'single' \"double\" 🎂👩‍👩‍👧",
    "حجز موعد عبر الإنترنت",
    LONG_NAME,
    '<a href="https://example.com/">link</a>',
    "</td></tr></table><h1>broken</h1>",
    "journey",
]
HOSTILE_STAGES = ["<script>alert('stage')</script>", "section", "مرحلة الشراء"]
HOSTILE_PERSONA = "<svg onload=alert(4)> Will"
HOSTILE_BUSINESS = "<img src=x onerror=alert(3)> & Co"

MEASURE = (
    "[document.documentElement.scrollWidth, document.querySelector('.map-scroll').clientWidth,"
    " document.querySelector('table.map').scrollWidth, document.documentElement.lang,"
    " document.querySelectorAll('script, img, iframe, object, embed, link').length]"
)


def journey(business: Business) -> tuple[JourneyMap, Report]:
    view = view_of(business)
    report = build_report(view, date(2026, 12, 1))
    return build_map(view, report), report


def hostile_business() -> Business:
    """The English webshop with hostile touchpoint, stage, persona and business names and pains."""
    names = iter(HOSTILE)
    stages = []
    for stage in WEBSHOP_BUSINESS_EN.stages:
        touchpoints = tuple(
            dataclasses.replace(tp, name=next(names, tp.name), pain=f"<b>{tp.pain}</b> & <i>more</i>" if tp.pain else "")
            for tp in stage.touchpoints
        )
        stages.append(dataclasses.replace(stage, touchpoints=touchpoints))
    for n, name in enumerate(HOSTILE_STAGES):
        stages[n] = dataclasses.replace(stages[n], name=name)
    persona = {**WEBSHOP_BUSINESS_EN.persona, "name": HOSTILE_PERSONA}
    return dataclasses.replace(WEBSHOP_BUSINESS_EN, key="hostile-en", name=HOSTILE_BUSINESS, persona=persona, stages=tuple(stages))


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    require_browser()
    with chromium() as launched:
        yield launched


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("business", COACH_BUSINESSES, ids=[b.key for b in COACH_BUSINESSES])
def test_the_page_loads_clean_and_shows_every_stage_touchpoint_and_label(browser: object, business: Business, viewport: tuple[int, int]) -> None:
    m, report = journey(business)
    seen = visit_html(render_html(m, report, today=TODAY), browser, viewport=viewport, evaluate=[MEASURE])
    assert seen.problems == []
    width, height = png_size(seen.screenshot)
    assert width == viewport[0], "the page is wider than the screen: only the map may scroll sideways"
    assert viewport[1] <= height < 30_000
    page_width, map_box, map_width, lang, embedded = seen.values[0]
    assert page_width == viewport[0]
    assert lang == m.lang
    assert embedded == 0
    if viewport == DESKTOP:
        assert map_width <= map_box, f"the map ({map_width}px) does not fit its box ({map_box}px) at 1280 px"
    else:
        assert map_width > map_box, "on a phone the map scrolls inside its own box"
    text = flat(seen.text)
    for stage in m.stages:
        assert flat(stage.name) in text
        for tp in stage.touchpoints:
            assert flat(tp.name) in text
    for card in report.improvements:
        assert flat(card.title) in text
    for wow in report.wow_moments:
        assert flat(wow.idea) in text
    labels_in_the_owners_language(m, text)


def labels_in_the_owners_language(m: JourneyMap, text: str) -> None:
    """The lanes and headings are those of the map's language, not the other one's (the page's
    text as the browser shows it: some labels are set in capitals)."""
    shown = text.casefold()
    own, other = map_labels(m.lang), map_labels("en" if m.lang == "nl" else "nl")
    for key in ("map_title", "stages", "touchpoints", "channel", "feeling", "pains", "delights", "improvements", "wows", "team", "persona", "review"):
        assert own[key].casefold() in shown, key
    for key in ("touchpoints", "pains", "delights", "improvements", "review"):
        assert other[key].casefold() not in shown, key
    headings = report_texts(m.lang)["headings"]
    for key in ("summary", "improvements", "wow", "mistakes", "calendar", "review"):
        assert headings[key].casefold() in shown, key
    expected = {"nl": ("Contactmomenten", "Pijnpunten en wachten", "Samenvatting"), "en": ("Touchpoints", "Pains and waits", "Summary")}
    assert all(word.casefold() in shown for word in expected[m.lang])


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_hostile_names_render_as_text_and_run_nothing(browser: object, viewport: tuple[int, int]) -> None:
    m, report = journey(hostile_business())
    seen = visit_html(render_html(m, report, today=TODAY), browser, viewport=viewport, evaluate=[MEASURE])
    assert seen.dialogs == [], "a script ran"
    assert not any(url.rstrip("/").endswith("/x") for url in seen.requests), "an <img src=x> was loaded"
    assert seen.problems == []
    text = flat(seen.text)
    for name in HOSTILE + HOSTILE_STAGES + [HOSTILE_PERSONA, HOSTILE_BUSINESS]:
        assert flat(name) in text, name
    assert "<b>" in text and "& <i>more</i>" in text  # a pain's markup shows as typed
    page_width, _, _, _, embedded = seen.values[0]
    assert embedded == 0, "an owner's answer became an element"
    assert page_width == viewport[0]
    assert png_size(seen.screenshot)[0] == viewport[0]


def test_printed_the_map_is_one_landscape_a4_page_as_wide_as_the_paper(browser: object) -> None:
    from pypdf import PdfReader

    for business in (COACH_BUSINESSES[1], WEBSHOP_BUSINESS_EN):  # the longest map (15 touchpoints) and an English one
        m, report = journey(business)
        html = render_html(m, report, today=TODAY)
        seen = visit_html(html, browser, viewport=A4_LANDSCAPE, media="print", evaluate=[MEASURE], pdf=True)
        page_width, map_box, map_width, _, _ = seen.values[0]
        assert map_width <= map_box and page_width <= A4_LANDSCAPE[0]
        pages = PdfReader(io.BytesIO(seen.pdf)).pages
        box = pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == (842, 595)  # A4 landscape, in points
        first = pages[0].extract_text()
        assert m.label("team") in first and m.label("wows") in first, "the map's last lanes run onto a second page"
        assert report_texts(m.lang)["headings"]["summary"] not in first, "the report starts on a page of its own"
        later = " ".join(p.extract_text() for p in pages[1:])
        assert report_texts(m.lang)["headings"]["mistakes"] in later


# --- without a browser ---------------------------------------------------------------------------


class _Elements(HTMLParser):
    """Every element and attribute of a page, and the text of its <style> blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []
        self.css = ""
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.css += data


def test_the_file_asks_for_nothing_from_outside() -> None:
    for business in (*COACH_BUSINESSES, hostile_business()):
        m, report = journey(business)
        page = _Elements()
        page.feed(render_html(m, report, today=TODAY))
        links = [(tag, name, value) for tag, name, value in page.attributes if name in ("src", "href", "srcset", "action", "poster", "data", "xlink:href")]
        assert all(value.startswith("#") for _, _, value in links), links
        assert not any(re.search(r"(https?:)?//", value) for _, name, value in page.attributes if name in ("src", "href")), links
        assert not set(page.tags) & {"script", "link", "iframe", "img", "object", "embed", "image", "use", "foreignobject"}
        assert {value for tag, name, value in page.attributes if tag == "a" and name == "href"} <= {
            f"#{kind}-{n}" for kind in ("improvement", "wow") for n in range(1, 20)
        }
        assert not any(name.startswith("on") for _, name, _ in page.attributes), "an event handler"
        assert "@import" not in page.css and not re.search(r"(https?:)?//", page.css)
        assert set(re.findall(r"url\(([^)]*)\)", page.css)) <= {"#curve-shade"}


def test_owner_text_is_escaped_and_the_head_is_complete() -> None:
    m, report = journey(hostile_business())
    html = render_html(m, report, today=TODAY)
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in html
    assert '<meta charset="utf-8">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "@page { size: A4 landscape" in html
    for raw in ("<script>alert(1)</script>", "<img src=x", "<svg onload", '<a href="https://example.com/">', "</td></tr></table><h1>"):
        assert raw not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(3)&gt; &amp; Co" in html
    assert "&quot;double&quot;" in html and "&#x27;single&#x27;" in html


def test_the_curve_has_a_point_per_feeling_and_a_gap_where_one_is_missing() -> None:
    m, report = journey(WEBSHOP_BUSINESS_EN)
    stages = list(m.stages)
    first = stages[1]
    stages[1] = dataclasses.replace(first, touchpoints=(dataclasses.replace(first.touchpoints[0], feeling=None), *first.touchpoints[1:]))
    stages[3] = dataclasses.replace(stages[3], touchpoints=())  # a stage without touchpoints: an empty column
    stages[4] = dataclasses.replace(stages[4], customers=3.6, responses=12, wows=("A surprise for the whole stage",))
    changed = dataclasses.replace(m, stages=tuple(stages))
    html = render_html(changed, report, today=TODAY)
    svg = re.search(r'<svg class="curve".*?</svg></td>', html, re.S)
    assert svg is not None
    feelings = [tp.feeling for _, tp in changed.touchpoints() if tp.feeling is not None]
    assert re.findall(r"<text [^>]*>(\d)</text>", svg.group(0)) == [str(f) for f in feelings]
    # Searching (2 points) | gap | Choosing's second, Ordering (3 points) | empty Delivery | Coming back (2 points)
    assert len(re.findall(r'<path class="line"', svg.group(0))) == 3
    assert 'class="customers"' in svg.group(0)
    assert "3.6" in html and "12 " + changed.label("responses") in html
    assert changed.label("no_touchpoints") in html
    assert re.search(r'<th scope="row" class="lane" rowspan="2"><span class="lane-name">WOW ideas</span>', html)
    assert re.search(r'<tr class="wows whole">.*A surprise for the whole stage.*?</tr>', html)
    columns = sum(max(1, len(s.touchpoints)) for s in changed.stages)
    assert f'colspan="{columns}" class="curve-cell"' in html


def test_without_a_report_the_map_stands_alone() -> None:
    m, _ = journey(COACH_BUSINESSES[0])
    html = render_html(dataclasses.replace(m, stages=tuple(dataclasses.replace(s, improvements=(), wows=()) for s in m.stages)), None, today=TODAY)
    assert report_texts("nl")["headings"]["summary"] not in html
    assert all(html.count(tp.name.replace("'", "&#x27;")) >= 1 for _, tp in m.touchpoints())
    assert "1 januari 2027" in html and "1 december 2026" in html
