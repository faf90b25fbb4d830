"""The emotion curve PNG (bot/chart.py)."""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

import pytest

from bot.chart import emotion_curve_png, points


@dataclass
class TP:
    name: str
    feeling: int | None


@dataclass
class Stage:
    name: str
    touchpoints: list[TP] = field(default_factory=list)


@dataclass
class Journey:
    stages: list[Stage]
    persona: str = "Busy Bea"
    language: str = "en"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def full_journey() -> Journey:
    return Journey(
        [
            Stage("Awareness", [TP("Instagram post", 4), TP("Friend's tip", 5)]),
            Stage("Consideration", [TP("Google reviews", 3), TP("Website", 2), TP("Price list", None)]),
            Stage("Purchase", [TP("Phone call <b>&</b>", 1), TP("Payment", 3)]),
            Stage("Delivery", [TP("Courier", 2)]),
            Stage("Loyalty", []),
            Stage("Advocacy", [TP("Review request", 4)]),
        ]
    )


def sane(data: bytes) -> tuple[int, int]:
    width, height = png_size(data)
    assert 400 <= width <= 3000 and 200 <= height <= 3000, (width, height)
    assert len(data) > 2000
    return width, height


def test_full_journey_gives_a_sane_png() -> None:
    width, height = sane(emotion_curve_png(full_journey()))
    assert width > height


def test_one_step_journey_gives_a_sane_png() -> None:
    sane(emotion_curve_png(Journey([Stage("Awareness", [TP("Ad", 2)])])))


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_no_data_picture_in_both_languages(lang: str) -> None:
    sane(emotion_curve_png(Journey([]), lang=lang))
    sane(emotion_curve_png(Journey([Stage("Awareness", [TP("Ad", None)])]), lang=lang))


def test_dicts_work_and_points_keep_order_and_ignore_bad_feelings() -> None:
    journey = {"stages": [{"name": "A", "touchpoints": [{"name": "x", "feeling": 9}, {"name": "y", "feeling": "4"}]}]}
    assert [(p.name, p.feeling) for p in points(journey)] == [("x", None), ("y", 4)]
    sane(emotion_curve_png(journey))


def test_no_figures_left_behind() -> None:
    import matplotlib._pylab_helpers as helpers

    before = len(helpers.Gcf.figs)
    for _ in range(3):
        emotion_curve_png(full_journey())
    assert len(helpers.Gcf.figs) == before


def test_the_journey_view_of_real_answers_draws() -> None:
    from bot.journey import build_view

    answers = {
        "persona.name": {"v": "Busy Bea", "s": "ok"},
        "journey.stages": {"v": ["Awareness", "Purchase"], "s": "ok"},
        "stage.awareness.touchpoints": {"v": ["Instagram", "Friend"], "s": "ok"},
        "stage.awareness.tp1.feeling": {"v": 4, "s": "ok"},
        "stage.awareness.tp2.feeling": {"v": None, "s": "unknown"},
        "stage.purchase.touchpoints": {"v": ["Checkout"], "s": "ok"},
        "stage.purchase.tp1.feeling": {"v": 1, "s": "ok"},
    }
    view = build_view(answers, "nl")
    assert [(p.stage, p.name, p.feeling) for p in points(view)] == [
        ("Awareness", "Instagram", 4),
        ("Awareness", "Friend", None),
        ("Purchase", "Checkout", 1),
    ]
    sane(emotion_curve_png(view))
