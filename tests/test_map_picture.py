"""The journey map as a picture and a one-page PDF (bot/map_picture.py), from real scripted journeys
and from hand-built maps: 6 stages × 4 touchpoints, 2 × 1, empty stages, no stages, hostile names."""
from __future__ import annotations

import io
import struct
import warnings
from datetime import date

import pytest
from pypdf import PdfReader

from bot.coach import build_report
from bot.report_sections import long_date
from bot.journey_map import JourneyMap, MapStage, MapTouchpoint, build_map, labels
from bot.map_picture import DPI, draw, page_layout, render_pdf, render_png
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from devkit.coach_cases import COACH_BUSINESSES, view_of

A4_POINTS = (842, 595)
A3_POINTS = (1191, 842)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def sane_png(data: bytes) -> tuple[int, int]:
    width, height = png_size(data)
    assert 1500 <= width <= 6000 and 700 <= height <= 4000, (width, height)
    assert 1.0 <= width / height <= 3.0, (width, height)  # landscape, printable on one page
    return width, height


def pdf_text(data: bytes) -> str:
    """The page's text with every whitespace removed (wrapping splits names over lines)."""
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) in (A4_POINTS, A3_POINTS), box
    return squash(reader.pages[0].extract_text())


def squash(text: str) -> str:
    return "".join(text.split())


def real_map(business) -> JourneyMap:  # type: ignore[no-untyped-def]
    view = view_of(business)
    return build_map(view, build_report(view, date(2026, 12, 1)))


def hand_map(stages: list[MapStage], lang: str = "en", **changes) -> JourneyMap:  # type: ignore[no-untyped-def]
    values = dict(
        lang=lang,
        title="Corner Café – Commuter Chris",
        business="Corner Café",
        persona_name="Commuter Chris",
        persona=(("Role or life stage", "Office worker who buys a coffee on the way to the train"), ("Persona goals", "Coffee in under two minutes")),
        persona_evidence="amber",
        stages=tuple(stages),
        labels=labels(lang),
        review_date="2027-03-01",
    )
    values.update(changes)
    return JourneyMap(**values)


def grid(n_stages: int, n_touchpoints: int) -> list[MapStage]:
    evidence = ("green", "amber", "red", "unknown")
    stages = []
    for s in range(n_stages):
        tps = tuple(
            MapTouchpoint(
                name=f"Stage {s + 1} touchpoint {t + 1} with a fairly ordinary name",
                channel="Website" if t % 2 else "Face to face",
                feeling=None if (s + t) % 5 == 4 else 1 + (s + t) % 5,
                pain="The queue at the counter is long in the morning and nobody says how long it takes" if t == 1 else "",
                team="Customer service",
                improvements=("Take the waiting out of the morning queue",) if t == 1 else (),
                wows=("Write the customer's name on the cup and remember their usual order the next time they come in",) if t == 2 else (),
            )
            for t in range(n_touchpoints)
        )
        stages.append(
            MapStage(
                name=f"Stage number {s + 1}",
                touchpoints=tps,
                delights="The smell of fresh bread when you come in" if s % 2 else "",
                evidence=evidence[s % 4],
                customers=3.4 if s % 2 == 0 else None,
                responses=12 if s % 2 == 0 else 0,
                improvements=("Make the whole stage faster",) if s == 1 else (),
                wows=("Surprise the tenth visit with a free pastry",) if s == 2 else (),
            )
        )
    return stages


def assert_names_in(data: bytes, m: JourneyMap) -> None:
    text = pdf_text(data)
    for stage in m.stages:
        assert squash(stage.name) in text, stage.name
        for tp in stage.touchpoints:
            assert squash(tp.name) in text, tp.name


@pytest.mark.parametrize("business", COACH_BUSINESSES, ids=lambda b: b.key)
def test_real_journeys_draw_a_page_with_every_stage_and_touchpoint(business) -> None:  # type: ignore[no-untyped-def]
    m = real_map(business)
    assert m.lang == business.lang
    sane_png(render_png(m))
    pdf = render_pdf(m)
    assert_names_in(pdf, m)
    text = pdf_text(pdf)
    for key in ("touchpoints", "channel", "pains", "delights", "improvements", "wows", "team", "made_by"):
        assert squash(m.label(key)) in text, key  # every lane in the map's own language
    assert squash(m.persona_name) in text and squash(long_date(m.review_date, m.lang)) in text  # said the owner's way


def test_the_two_languages_label_the_lanes_in_their_own_words() -> None:
    dutch = pdf_text(render_pdf(real_map(COACH_BUSINESSES[0])))
    english = pdf_text(render_pdf(real_map(COACH_BUSINESSES[2])))
    assert "Pijnpuntenenwachten" in dutch and "Painsandwaits" not in dutch
    assert "Painsandwaits" in english and "Pijnpuntenenwachten" not in english


def test_six_stages_of_four_touchpoints_stay_on_one_readable_page() -> None:
    m = hand_map(grid(6, 4))
    width, height = sane_png(render_png(m))
    assert width >= 3000  # 24 columns get room, not a squeeze onto a small canvas
    assert_names_in(render_pdf(m), m)


def test_two_stages_of_one_touchpoint_still_fill_a_page() -> None:
    m = hand_map(grid(2, 1))
    sane_png(render_png(m))
    assert_names_in(render_pdf(m), m)


def test_a_stage_without_touchpoints_and_a_map_without_stages() -> None:
    stages = grid(2, 2) + [MapStage(name="Coming back", touchpoints=())]
    m = hand_map(stages)
    sane_png(render_png(m))
    text = pdf_text(render_pdf(m))
    assert "Comingback" in text and squash(m.label("no_touchpoints")) in text

    empty = hand_map([], lang="nl")
    sane_png(render_png(empty))
    text = pdf_text(render_pdf(empty))
    assert squash(empty.label("no_touchpoints")) in text and "Gemaaktmetjourneybot" in text


def test_long_names_are_wrapped_whole_never_cut() -> None:
    long_stage = "Everything that happens after the parcel has left our warehouse " * 5
    long_tp = "A touchpoint with a name so long that it cannot possibly fit on one line " * 15
    word = "Supercalifragilisticexpialidocious" * 9  # one 306-letter word
    stages = [
        MapStage(name=long_stage[:300], touchpoints=(MapTouchpoint(name=long_tp[:300], feeling=3, pain="x " * 400), MapTouchpoint(name=word, feeling=2))),
        MapStage(name="Short", touchpoints=(MapTouchpoint(name="Ok", feeling=4, wows=("w " * 500,)),)),
        MapStage(name=long_stage, touchpoints=(MapTouchpoint(name=long_tp, feeling=1),)),  # 325 and 1,095 characters
    ]
    m = hand_map(stages)
    sane_png(render_png(m))
    assert_names_in(render_pdf(m), m)


HOSTILE = (
    "Cake 🎂 and coffee ☕ with 👩‍👩‍👧 family",
    "مرحلة الشراء",
    "שלב הקנייה",
    "<b>bold</b> & <script>alert(1)</script>",
    "Price $x^2$ with 100% \\frac{1}{2} ^_^",  # two dollars: mathtext, unless switched off
    "From $5 to $10 off",
    "section title journey",
    "title: journey\nsection Pay: 5: Me",
)


def test_hostile_names_neither_crash_nor_turn_into_something_else() -> None:
    stages = [
        MapStage(
            name=name,
            touchpoints=(MapTouchpoint(name=name, channel=name, feeling=3, pain=name, team=name, improvements=(name,), wows=(name,)),),
            delights=name,
            evidence="green",
            improvements=(name,),
        )
        for name in HOSTILE
    ]
    m = hand_map(stages, title=HOSTILE[0], business=HOSTILE[3], persona_name=HOSTILE[4], persona=tuple(("$label$", n) for n in HOSTILE))
    sane_png(render_png(m))
    text = pdf_text(render_pdf(m))
    for name in HOSTILE[3:]:
        assert squash(name) in text, name  # markup, dollars (no mathtext) and Mermaid words stay literal
    for name in HOSTILE[1:3]:  # right-to-left: the text is there, word by word
        assert all(word in text for word in name.split()), name
    assert "Cake" in text and "family" in text  # the letters around the emoji are kept


def test_a_very_long_text_outside_the_names_is_cut_with_an_ellipsis() -> None:
    pain = "The parcel waits at the depot " * 120
    m = hand_map([MapStage(name="Delivery", touchpoints=(MapTouchpoint(name="Parcel at the depot", feeling=2, pain=pain),))])
    text = pdf_text(render_pdf(m))
    assert "…" in text and squash(pain) not in text
    assert "Parcelatthedepot" in text and "Delivery" in text


def test_emoji_and_other_missing_glyphs_warn_nobody() -> None:
    m = hand_map([MapStage(name=HOSTILE[0], touchpoints=(MapTouchpoint(name=HOSTILE[0], feeling=4),))], persona_name=HOSTILE[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sane_png(render_png(m))
        render_pdf(m)


def texts_on_the_page(m: JourneyMap) -> list[tuple[object, float, float]]:
    """Every text as drawn on the PNG's canvas: (pixel box, left and right edge of its room in pixels)."""
    lay = page_layout(m)
    fig = Figure(figsize=(lay.width, lay.height), dpi=DPI)
    placed = draw(lay, fig)
    renderer = FigureCanvasAgg(fig).get_renderer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [(t.get_window_extent(renderer), left * DPI, right * DPI) for t, left, right in placed]


@pytest.mark.parametrize("case", ["bakery", "6x4", "hostile"])
def test_no_text_leaves_its_cell_or_covers_another(case: str) -> None:
    if case == "bakery":
        m = real_map(COACH_BUSINESSES[0])
    elif case == "6x4":
        m = hand_map(grid(6, 4))
    else:
        stages = [MapStage(name=n, touchpoints=(MapTouchpoint(name=n, channel=n, feeling=3, pain=n, wows=(n,)),), delights=n) for n in HOSTILE]
        m = hand_map(stages)
    texts = texts_on_the_page(m)
    assert len(texts) > 30
    for box, left, right in texts:
        assert box.x0 >= left - 1 and box.x1 <= right + 1, (box, left, right)
    boxes = [box for box, _, _ in texts]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            overlap_x = min(a.x1, b.x1) - max(a.x0, b.x0)
            overlap_y = min(a.y1, b.y1) - max(a.y0, b.y0)
            assert overlap_x <= 1 or overlap_y <= 1, (a, b)
