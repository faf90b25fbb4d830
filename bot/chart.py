"""The emotion curve: the customer's feeling (1..5) per touchpoint across the stages, as a PNG.

Drawn with matplotlib's object API on an Agg canvas: no pyplot, no global figure
registry, nothing left open. The input is the lead's JourneyView, read through a small
protocol so any object (or dict) with this shape works::

    journey.stages[i].name
    journey.stages[i].touchpoints[j].name
    journey.stages[i].touchpoints[j].feeling   # int 1..5 or None

`feeling` may also be a Field (`known`, `value`) or the touchpoint may offer `score`,
as bot/journey.py's TouchpointView does. `persona_name` / `title` and `lang` are used
when present.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any, Iterable

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import prompts

DPI = 100
_BAND_COLOURS = {1: "#f8d7d5", 2: "#fbe6d3", 3: "#f3f3f3", 4: "#e3f1dc", 5: "#d2ecd0"}
_STAGE_SHADES = ("#ffffff", "#f4f6fa")
_LINE = "#2f5d8a"
_LOW = "#c0392b"
_HIGH = "#1e8449"


@dataclass(frozen=True)
class Point:
    stage: str
    stage_index: int
    name: str
    feeling: int | None


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _feeling(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= 5 else None


def _touchpoint_feeling(tp: Any) -> int | None:
    """JourneyView's TouchpointView has `score`; its `feeling` is a Field with `known`/`value`."""
    if not isinstance(tp, dict) and hasattr(tp, "score"):
        return _feeling(tp.score)
    feeling = _get(tp, "feeling")
    if hasattr(feeling, "known") and hasattr(feeling, "value"):
        return _feeling(feeling.value) if feeling.known else None
    return _feeling(feeling)


def points(journey: Any) -> list[Point]:
    """Every touchpoint of every stage, in order, with its feeling (None when unknown)."""
    out: list[Point] = []
    for s_index, stage in enumerate(_get(journey, "stages", None) or []):
        stage_name = str(_get(stage, "name", "") or "")
        for tp in _get(stage, "touchpoints", None) or []:
            out.append(Point(stage_name, s_index, str(_get(tp, "name", "") or ""), _touchpoint_feeling(tp)))
    return out


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    text = text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
    return text.replace("$", r"\$")  # a "$" would switch matplotlib to mathtext


def _language(journey: Any, lang: str | None) -> str:
    return prompts.normalise_language(lang or _get(journey, "lang", None) or _get(journey, "language", None))


def _title(journey: Any, texts: dict[str, Any]) -> str:
    name = _get(journey, "persona_name", None) or _get(journey, "persona", None) or _get(journey, "title", None)
    if isinstance(name, str) and name.strip():
        return texts["title"].format(journey=_shorten(name, 60))
    return texts["title_plain"]


def _render(fig: Figure) -> bytes:
    canvas = FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    canvas.print_png(buffer)
    fig.clear()
    return buffer.getvalue()


def _no_data(texts: dict[str, Any], title: str) -> bytes:
    fig = Figure(figsize=(7, 3), dpi=DPI)
    fig.suptitle(title, fontsize=12, fontweight="bold")
    fig.text(0.5, 0.45, texts["no_data"], ha="center", va="center", fontsize=11, wrap=True, color="#555555")
    return _render(fig)


def emotion_curve_png(journey: Any, lang: str | None = None) -> bytes:
    """A PNG of the feeling per touchpoint; a small 'no data yet' picture when nothing is rated."""
    language = _language(journey, lang)
    texts = prompts.load(language, "chart")
    title = _title(journey, texts)
    pts = points(journey)
    if not any(p.feeling is not None for p in pts):
        return _no_data(texts, title)

    n = len(pts)
    width = min(max(6.5, 1.1 * n + 2.5), 24.0)
    fig = Figure(figsize=(width, 5.2), dpi=DPI)
    ax = fig.add_subplot(1, 1, 1)
    xs = list(range(n))

    # Satisfaction bands from very negative (red) to very positive (green).
    for level, colour in _BAND_COLOURS.items():
        ax.axhspan(level - 0.5, level + 0.5, color=colour, zorder=0, lw=0)

    # Stage groups: alternating shade, separators, stage name above the group.
    groups = _groups(pts)
    for g_index, (stage, first, last) in enumerate(groups):
        ax.axvspan(first - 0.5, last + 0.5, color=_STAGE_SHADES[g_index % 2], alpha=0.45, zorder=1, lw=0)
        if g_index:
            ax.axvline(first - 0.5, color="#9aa5b1", lw=0.8, ls="--", zorder=2)
        ax.text(
            (first + last) / 2,
            5.62,
            _shorten(stage, max(8, int(14 * (last - first + 1)))),
            ha="center",
            va="bottom",
            fontsize=9.5,
            fontweight="bold",
            color="#34495e",
            clip_on=False,
        )

    ys = [p.feeling if p.feeling is not None else math.nan for p in pts]
    ax.plot(xs, ys, color=_LINE, lw=2.2, marker="o", ms=7, zorder=4)
    for x, p in zip(xs, pts):
        if p.feeling is None:
            ax.text(x, 3, texts["unknown"], ha="center", va="center", fontsize=11, color="#7f8c8d", zorder=4)

    rated = [(x, p.feeling) for x, p in zip(xs, pts) if p.feeling is not None]
    low_x, low_y = min(rated, key=lambda item: (item[1], item[0]))
    high_x, high_y = max(rated, key=lambda item: (item[1], -item[0]))
    ax.scatter([low_x], [low_y], s=190, facecolors="none", edgecolors=_LOW, linewidths=2.2, zorder=5)
    ax.annotate(
        f"{texts['lowest']} ({low_y})",
        (low_x, low_y),
        xytext=(0, -22),
        textcoords="offset points",
        ha="center",
        fontsize=9,
        color=_LOW,
        fontweight="bold",
        zorder=6,
    )
    if (high_x, high_y) != (low_x, low_y):
        ax.scatter([high_x], [high_y], s=190, facecolors="none", edgecolors=_HIGH, linewidths=2.2, zorder=5)
        ax.annotate(
            f"{texts['highest']} ({high_y})",
            (high_x, high_y),
            xytext=(0, 13),
            textcoords="offset points",
            ha="center",
            fontsize=9,
            color=_HIGH,
            fontweight="bold",
            zorder=6,
        )

    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(0.5, 5.5)
    ax.set_yticks([1, 2, 3, 4, 5])
    ax.set_yticklabels([f"{level} {texts['scale'][level]}" for level in range(1, 6)], fontsize=8.5)
    ax.set_ylabel(texts["y_label"], fontsize=10)
    ax.set_xticks(xs)
    ax.set_xticklabels([_shorten(p.name, 22) or "·" for p in pts], rotation=30 if n > 4 else 0, ha="right" if n > 4 else "center", fontsize=8.5)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    fig.suptitle(title, fontsize=12.5, fontweight="bold", y=0.985)
    fig.subplots_adjust(left=0.2 if width < 9 else 0.12, right=0.97, top=0.84, bottom=0.24 if n > 4 else 0.14)
    return _render(fig)


def _groups(pts: Iterable[Point]) -> list[tuple[str, int, int]]:
    groups: list[tuple[str, int, int]] = []
    current: int | None = None
    for x, p in enumerate(pts):
        if current != p.stage_index:
            groups.append((p.stage, x, x))
            current = p.stage_index
        else:
            stage, first, _ = groups[-1]
            groups[-1] = (stage, first, x)
    return groups
