"""The journey map as one printable page: a PNG (`render_png`) and a one-page PDF (`render_pdf`).

Input is the neutral `JourneyMap` of bot/journey_map.py; every word on the page is the owner's own
or a label of prompts/<lang>/map.yaml. Layout: title and business on top, the persona in a panel on
the left, the stages as columns (as wide as their touchpoints), and one lane (row) per aspect:
touchpoints, channel, the emotion curve, pains, what already delights, improvements, WOW ideas and
team. A footer carries the review date and `made_by`.

Drawn with matplotlib's object API (no pyplot) like bot/chart.py. The layout is computed once in
"design inches" and then drawn at scale 1 for the PNG (150 dpi) or scaled onto an A4/A3 landscape
page for the PDF, so both show the same map. Texts wrap (textwrap on a measured characters-per-line
estimate, checked against the real width of every line); a cell that still overflows its lane gets
a smaller font, down to a floor, and only then an ellipsis; stage and touchpoint names are never
shortened: their row grows instead. Every text is drawn literally: no mathtext, no TeX.
"""
from __future__ import annotations

import io
import math
import textwrap
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Iterator, Sequence

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.backends.backend_pdf import FigureCanvasPdf
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from bot.journey_map import JourneyMap, MapStage, MapTouchpoint
from bot.report_sections import long_date

DPI = 150
MAX_PNG_WIDTH = 5800  # pixels; a very wide map is drawn at a lower dpi rather than wider
FONT = "DejaVu Sans"  # ships with matplotlib, so every machine draws the same page
FLOOR = 6.0  # smallest font size (pt) a cell may shrink to
LINE = 1.24  # line height as a multiple of the font size
PAD = 0.06  # cell padding, inches

A4 = (11.69, 8.27)  # landscape, inches
A3 = (16.54, 11.69)
PAGE_MARGIN = 0.3

MARGIN = 0.35
PERSONA_W = 2.45
GAP = 0.18
LABEL_W = 1.3
MIN_WIDTH = 11.0  # inches: a small map still fills a landscape page at 150 dpi
COLUMN_WIDTHS = tuple(round(0.8 + 0.1 * i, 2) for i in range(20))  # 0.8 .. 2.7 inches per touchpoint
TARGET_ASPECT = A3[0] / A3[1]
CURVE_GROWTH = 2.0  # inches the emotion curve may grow to make a wide page more page-shaped
ROOMS = (1.0, 1.4, 1.9, 2.5)  # how much taller than usual a cell may grow before its font shrinks

INK = "#1f2d3d"
GREY = "#6b7785"
RULE = "#c9d1da"
STAGE_RULE = "#8e9aa8"
LABEL_BG = "#eef1f5"
PERSONA_BG = "#f6f3ee"
STAGE_SHADES = ("#ffffff", "#f6f8fb")
BANDS = {1: "#f8d7d5", 2: "#fbe6d3", 3: "#f3f3f3", 4: "#e3f1dc", 5: "#d2ecd0"}  # as bot/chart.py
CURVE = "#2f5d8a"
CUSTOMERS = "#8e44ad"
EVIDENCE = {"green": "#27a844", "amber": "#f0a202", "red": "#d64541", "unknown": "#a4acb6"}
LANE_INK = {"pains": "#922b21", "delights": "#1e7b43", "improvements": "#1f4e79", "wows": "#7d3c98"}

_PDF_LOCK = threading.Lock()  # rc_context changes matplotlib's global settings for the PDF save


# ---------------------------------------------------------------- measuring and wrapping


@dataclass(frozen=True)
class Block:
    """Fitted text: lines as (text, x offset in inches, y offset of the line top in inches)."""

    lines: tuple[tuple[str, float, float], ...]
    size: float
    height: float
    bold: bool = False


EMPTY = Block((), 0.0, 0.0)


def line_height(size: float) -> float:
    return size * LINE / 72


def _clean(text: object) -> str:
    return " ".join(str(text or "").split())


class Fitter:
    """Measures text and wraps it to a width. A character's advance is measured once (with the Agg
    renderer at a large size, so pixel rounding does not matter); a text is the sum of its
    characters, which ignores kerning and so errs on the wide side."""

    REFERENCE = 100.0  # points

    def __init__(self) -> None:
        self._renderer = RendererAgg(8, 8, 72)
        self._props = {bold: FontProperties(family=FONT, size=self.REFERENCE, weight="bold" if bold else "normal") for bold in (False, True)}
        self._chars: dict[tuple[str, bool], float] = {}
        self._texts: dict[tuple[str, bool], float] = {}
        self.cells: float = 0  # since the last reset: how many blocks were fitted,
        self.kept = 0.0  # the sum of their font size over the size they asked for,
        self.broken = 0  # how many words had to be broken inside,
        self.cut = 0  # and how many texts were cut short with an ellipsis (how a layout is judged)

    def _char(self, char: str, bold: bool) -> float:
        key = (char, bold)
        if key not in self._chars:
            w, _, _ = self._renderer.get_text_width_height_descent(char, self._props[bold], ismath=False)
            self._chars[key] = w / 72 / self.REFERENCE
        return self._chars[key]

    def width(self, text: str, size: float, bold: bool = False) -> float:
        """Width in inches at `size` points."""
        key = (text, bold)
        if key not in self._texts:
            self._texts[key] = sum(self._char(c, bold) for c in text) * 1.06  # room for hinting at 150 dpi
        return self._texts[key] * size

    def wrap(self, text: str, width: float, size: float, bold: bool = False) -> tuple[list[str], bool]:
        """textwrap on an estimated characters-per-line count, tightened until every line fits.
        The flag says a word longer than the width had to be broken."""
        text = _clean(text)
        if not text:
            return [], False
        if self.width(text, size, bold) <= width:
            return [text], False
        broken = any(self.width(word, size, bold) > width for word in text.split())
        per_char = self.width(text, size, bold) / len(text)
        chars = max(2, int(width / per_char))
        while True:
            lines = textwrap.wrap(text, chars, break_long_words=broken, break_on_hyphens=True)
            if chars <= 2 or all(self.width(line, size, bold) <= width for line in lines):
                return lines, broken
            chars = max(2, chars - max(1, chars // 12))

    def ellipsis(self, line: str, width: float, size: float, bold: bool = False) -> str:
        line = line.rstrip()
        while line and self.width(line + "…", size, bold) > width:
            line = line[:-1].rstrip()
        return line + "…"

    def block(
        self,
        items: Sequence[str],
        width: float,
        size: float,
        *,
        budget: float = math.inf,
        bold: bool = False,
        shorten: bool = True,
        bullet: bool = False,
        floor: float = FLOOR,
        nominal: float = 0.0,
        weight: float = 1.0,
    ) -> Block:
        """Fit the items into `width`; shrink the font (down to `floor`) while taller than `budget`
        or while a word does not fit on a line; then cut with an ellipsis when `shorten`, or else
        let the block be as tall as it needs. `nominal` is the size the lane asks for, if larger."""
        items = [t for t in (_clean(i) for i in items) if t]
        if not items or width <= 0:
            return EMPTY
        block, broken = self._shrink(items, width, size, budget, bold, bullet, floor)
        self.cells += weight
        self.kept += weight * block.size / max(size, nominal)
        self.broken += broken
        if block.height <= budget + 1e-6 or not shorten:
            return block
        self.cut += 1
        return self._cut(block, width, bullet, budget)

    def size_for(self, items: Sequence[str], width: float, size: float, *, budget: float = math.inf, bold: bool = False, bullet: bool = False) -> float:
        """The font size `block` would choose, without counting it."""
        items = [t for t in (_clean(i) for i in items) if t]
        if not items or width <= 0:
            return size
        return self._shrink(items, width, size, budget, bold, bullet, FLOOR)[0].size

    def _shrink(self, items: list[str], width: float, size: float, budget: float, bold: bool, bullet: bool, floor: float) -> tuple[Block, bool]:
        current = size
        while True:
            block, broken = self._layout(items, width, current, bold, bullet)
            if (block.height <= budget + 1e-6 and not broken) or current <= floor:
                return block, broken
            current = max(floor, current - 0.5)

    def _layout(self, items: list[str], width: float, size: float, bold: bool, bullet: bool) -> tuple[Block, bool]:
        step = line_height(size)
        indent = self.width("• ", size, bold) if bullet else 0.0
        lines: list[tuple[str, float, float]] = []
        y = 0.0
        any_broken = False
        for n, item in enumerate(items):
            if n:
                y += step * 0.35
            wrapped, broken = self.wrap(item, width - indent, size, bold)
            any_broken |= broken
            for k, text in enumerate(wrapped):
                if bullet and k == 0:
                    lines.append(("•", 0.0, y))
                lines.append((text, indent, y))
                y += step
        return Block(tuple(lines), size, y, bold), any_broken

    def _cut(self, block: Block, width: float, bullet: bool, budget: float) -> Block:
        step = line_height(block.size)
        kept = [line for line in block.lines if line[2] + step <= budget + 1e-6] or list(block.lines[:1])
        dropped = len(kept) < len(block.lines)
        if dropped:
            text, dx, y = kept[-1]
            if text == "•" and len(kept) > 1:  # never end on a lonely bullet
                kept.pop()
                text, dx, y = kept[-1]
            kept[-1] = (self.ellipsis(text, width - dx, block.size, block.bold), dx, y)
        height = kept[-1][2] + step
        return Block(tuple(kept), block.size, height, block.bold)


# ---------------------------------------------------------------- the layout, in design inches


@dataclass(frozen=True)
class TextItem:
    x: float
    y: float  # top of the block
    block: Block
    colour: str = INK
    align: str = "left"  # left | center | right: x is the left edge, the centre or the right edge
    width: float = 0.0  # the room the lines must stay within (from x; around x when centred; up to x when right)
    italic: bool = False


@dataclass(frozen=True)
class RectItem:
    x: float
    y: float
    w: float
    h: float
    face: str
    edge: str = "none"
    lw: float = 0.0


@dataclass(frozen=True)
class LineItem:
    x1: float
    y1: float
    x2: float
    y2: float
    colour: str = RULE
    lw: float = 0.6


@dataclass(frozen=True)
class DotItem:
    x: float
    y: float
    colour: str
    size: float = 7.0  # marker size in points
    marker: str = "o"


@dataclass(frozen=True)
class CurveItem:
    x: float
    y: float
    w: float
    h: float
    feelings: tuple[float, ...]  # per column; nan when unknown or no touchpoint
    known: tuple[bool, ...]  # a touchpoint without a feeling (a dash is drawn), vs. an empty column
    customers: tuple[tuple[float, float, str], ...]  # (x in columns, average, caption)
    boundaries: tuple[float, ...]  # stage boundaries in column units
    between: tuple[float, ...]  # boundaries between touchpoints of a stage
    unknown: str
    empty: str = ""  # a caption when the map has no touchpoints at all


@dataclass
class Layout:
    width: float
    height: float
    items: list[object] = field(default_factory=list)
    column: float = 0.0
    room: float = 1.0
    score: float = 0.0


@dataclass(frozen=True)
class Column:
    stage: int
    touchpoint: MapTouchpoint | None


def _evidence_level(level: str) -> str:
    return level if level in EVIDENCE else "unknown"


def _columns(m: JourneyMap) -> tuple[list[Column], list[tuple[int, int]]]:
    """Every column (a touchpoint, or one empty column for a stage without any) and each stage's span."""
    columns: list[Column] = []
    spans: list[tuple[int, int]] = []
    for index, stage in enumerate(m.stages):
        first = len(columns)
        columns += [Column(index, tp) for tp in stage.touchpoints] or [Column(index, None)]
        spans.append((first, len(columns) - first))
    return columns, spans


def _number(value: float, lang: str) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if lang == "nl" else text


LANES = ("touchpoints", "channel", "feeling", "pains", "delights", "improvements", "wows", "team")


@dataclass(frozen=True)
class LaneStyle:
    size: float
    budget: float  # inches a cell may take before its font shrinks
    align: str = "left"
    bold: bool = False
    shorten: bool = True
    bullet: bool = False
    stage_budget: float = 0.0  # the stage-wide part (delights, stage improvements/WOWs)
    spill: bool = False  # may run on over empty cells to the right, within the stage
    weight: float = 1.0  # how much a smaller font here costs when choosing the layout


STYLES = {
    "touchpoints": LaneStyle(8.5, 0.95, "center", bold=True, shorten=False, weight=3.0),
    "channel": LaneStyle(7.5, 0.42, "center", weight=0.5),
    "pains": LaneStyle(7.5, 1.0, spill=True),
    "delights": LaneStyle(7.5, 0.0, stage_budget=0.75),
    "improvements": LaneStyle(7.5, 1.15, bullet=True, stage_budget=0.6, spill=True),
    "wows": LaneStyle(7.5, 1.5, bullet=True, stage_budget=0.7, spill=True),
    "team": LaneStyle(7.5, 0.42, "center", weight=0.5),
}
CURVE_HEIGHT = 1.45
PERSONA_HEIGHT = 6.5  # the persona panel may make a short map this tall before its texts are cut
MIN_LANE = 0.3


def _cell_items(lane: str, tp: MapTouchpoint | None) -> list[str]:
    if tp is None:
        return []
    if lane == "touchpoints":
        return [tp.name]
    if lane in ("improvements", "wows"):
        return list(getattr(tp, lane))
    return [getattr(tp, {"pains": "pain"}.get(lane, lane), "")]


def _stage_items(lane: str, stage: MapStage) -> list[str]:
    if lane == "delights":
        return [stage.delights]
    if lane in ("improvements", "wows"):
        return list(getattr(stage, lane))
    return []


def layout(m: JourneyMap, fit: Fitter, column: float, room: float = 1.0, curve: float = 0.0) -> Layout:
    """The whole page for one column width (inches per touchpoint), with `room` times the usual
    height a cell may take before its font shrinks."""
    columns, spans = _columns(m)
    n = len(columns)
    grid_w = n * column
    width = max(MIN_WIDTH, MARGIN + PERSONA_W + GAP + LABEL_W + grid_w + MARGIN)
    if width > MARGIN + PERSONA_W + GAP + LABEL_W + grid_w + MARGIN:  # stretch the columns to fill
        column = (width - 2 * MARGIN - PERSONA_W - GAP - LABEL_W) / n
        grid_w = n * column
    lay = Layout(width, 0.0, column=column, room=room)
    items = lay.items
    label = m.label

    # Title and business.
    y = MARGIN
    y = _header(m, fit, lay, y)

    grid_x = MARGIN + PERSONA_W + GAP
    cols_x = grid_x + LABEL_W
    top = y
    stage_x = [cols_x + first * column for first, _ in spans]
    stage_w = [count * column for _, count in spans]

    # Stage header row: name (never shortened) and the evidence light.
    name_size = _common_size(fit, [([s.name], w - 2 * PAD) for s, w in zip(m.stages, stage_w)], 10.5, 0.62 * room, bold=True)
    names = [fit.block([s.name], w - 2 * PAD, name_size, budget=0.62 * room, bold=True, shorten=False, nominal=10.5, weight=3.0) for s, w in zip(m.stages, stage_w)]
    lights = [
        fit.block([label(f"evidence_{_evidence_level(s.evidence)}")], w - 2 * PAD - 0.16, 7.0, budget=line_height(7.0) * 2)
        for s, w in zip(m.stages, stage_w)
    ]
    head_h = max(b.height for b in names) + max(b.height for b in lights) + 3 * PAD + 0.02
    stages_label = fit.block([label("stages")], LABEL_W - 2 * PAD, 8.0, bold=True, budget=head_h - 2 * PAD)
    head_h = max(head_h, stages_label.height + 2 * PAD)

    # Lanes: heights first, then drawing.
    rows: list[tuple[str, float, Block, list]] = []  # (lane, height, label block, cells)
    for lane in LANES:
        lane_label = _lane_label(m, fit, lane)
        if lane == "feeling":
            rows.append((lane, max(curve or CURVE_HEIGHT, lane_label.height + 2 * PAD), lane_label, []))
            continue
        style = STYLES[lane]
        size = style.size
        if style.align == "center":  # one size for the whole lane, unless a single cell is far too long
            size = _common_size(fit, [(_cell_items(lane, c.touchpoint), column - 2 * PAD) for c in columns], style.size, style.budget * room, style.bold)
        cells = []
        needed = lane_label.height
        for s_index, stage in enumerate(m.stages):
            first, count = spans[s_index]
            here = columns[first : first + count]
            contents = [_cell_items(lane, c.touchpoint) for c in here]
            tp_blocks: list[tuple[int, int, Block]] = []  # (column in the stage, columns wide, text)
            for k, c in enumerate(here):
                if lane == "touchpoints" and c.touchpoint is None:
                    tp_blocks.append((k, 1, fit.block([label("no_touchpoints")], column - 2 * PAD, 7.0, budget=0.6)))
                    continue
                if not any(_clean(t) for t in contents[k]):
                    continue
                wide = 1
                if style.spill:  # a long text may run on over the empty cells to its right
                    while k + wide < count and not any(_clean(t) for t in contents[k + wide]):
                        wide += 1
                block = fit.block(
                    contents[k],
                    wide * column - 2 * PAD,
                    size,
                    budget=style.budget * room,
                    bold=style.bold,
                    shorten=style.shorten,
                    bullet=style.bullet,
                    nominal=style.size,
                    weight=style.weight,
                )
                tp_blocks.append((k, wide, block))
            whole = fit.block(
                _stage_items(lane, stage), stage_w[s_index] - 2 * PAD, style.size, budget=style.stage_budget * room, bullet=style.bullet
            )
            tp_h = max((b.height for _, _, b in tp_blocks), default=0.0)
            stage_h = tp_h + (whole.height + (PAD if tp_h else 0.0) if whole.height else 0.0)
            needed = max(needed, stage_h)
            cells.append((tp_blocks, whole, tp_h))
        rows.append((lane, max(MIN_LANE, needed + 2 * PAD), lane_label, cells))

    grid_h = head_h + sum(h for _, h, _, _ in rows)

    # Persona panel: as tall as the grid; it may make the page taller at the floor size.
    persona_w = PERSONA_W - 2 * PAD - 0.04
    persona, persona_h = _persona(m, fit, persona_w, max(grid_h, PERSONA_HEIGHT) - 2 * PAD)
    if persona_h + 2 * PAD > grid_h:  # the emotion curve takes the extra height
        extra = persona_h + 2 * PAD - grid_h
        rows = [(lane, h + (extra if lane == "feeling" else 0.0), lb, cells) for lane, h, lb, cells in rows]
        grid_h = persona_h + 2 * PAD

    # Backgrounds: stage shades, the label column, the persona panel.
    items.append(RectItem(MARGIN, top, PERSONA_W, grid_h, PERSONA_BG, RULE, 0.6))
    for s_index in range(len(m.stages)):
        items.append(RectItem(stage_x[s_index], top, stage_w[s_index], grid_h, STAGE_SHADES[s_index % 2]))
    items.append(RectItem(grid_x, top, LABEL_W, grid_h, LABEL_BG))
    items.append(RectItem(grid_x, top, LABEL_W + grid_w, head_h, "#e4ebf3"))

    # Persona contents.
    for item in persona:
        items.append(_moved(item, MARGIN + PAD + 0.02, top + PAD))

    # Stage header contents.
    items.append(TextItem(grid_x + PAD, top + PAD, stages_label, GREY, width=LABEL_W - 2 * PAD))
    name_h = max(b.height for b in names)
    for s_index, stage in enumerate(m.stages):
        x, w = stage_x[s_index], stage_w[s_index]
        items.append(TextItem(x + w / 2, top + PAD, names[s_index], INK, "center", w - 2 * PAD))
        light = lights[s_index]
        level = _evidence_level(stage.evidence)
        light_w = max((fit.width(t, light.size) for t, _, _ in light.lines), default=0.0) + 0.16
        lx = x + max(PAD, (w - light_w) / 2)
        ly = top + 2 * PAD + name_h + 0.02
        items.append(DotItem(lx + 0.05, ly + line_height(light.size) / 2, EVIDENCE[level], 6.5))
        items.append(TextItem(lx + 0.16, ly, light, GREY, width=w - 2 * PAD - 0.16))

    # Lanes.
    y = top + head_h
    for lane, h, lane_label, cells in rows:
        items.append(TextItem(grid_x + PAD, y + PAD, lane_label, INK, width=LABEL_W - 2 * PAD))
        if lane == "feeling":
            _feeling_label_extras(m, fit, items, grid_x, y, lane_label)
            items.append(_curve(m, columns, spans, cols_x, y, grid_w, h))
        else:
            style = STYLES[lane]
            colour = LANE_INK.get(lane, INK)
            for s_index, (tp_blocks, whole, tp_h) in enumerate(cells):
                first, count = spans[s_index]
                covered: set[int] = set()
                for k, wide, block in tp_blocks:
                    cx = cols_x + (first + k) * column
                    covered.update(range(k + 1, k + wide))
                    empty_stage = lane == "touchpoints" and columns[first + k].touchpoint is None
                    if style.align == "center":
                        items.append(TextItem(cx + column / 2, y + PAD, block, GREY if empty_stage else colour, "center", column - 2 * PAD, empty_stage))
                    else:
                        items.append(TextItem(cx + PAD, y + PAD, block, colour, width=wide * column - 2 * PAD))
                # the thin rule between touchpoints, unless a text runs over it, and above a stage-wide text
                rule_end = y + h if not whole.height else (y + PAD + tp_h + PAD / 2 if tp_h else y)
                for k in range(1, count):
                    if k not in covered and rule_end > y:
                        x = cols_x + (first + k) * column
                        items.append(LineItem(x, y, x, rule_end, RULE, 0.4))
                if whole.height:
                    wy = y + PAD + (tp_h + PAD if tp_h else 0.0)
                    if tp_h:
                        items.append(LineItem(stage_x[s_index] + PAD, wy - PAD / 2, stage_x[s_index] + stage_w[s_index] - PAD, wy - PAD / 2, RULE, 0.4))
                    items.append(TextItem(stage_x[s_index] + PAD, wy, whole, colour, width=stage_w[s_index] - 2 * PAD))
        y += h
        items.append(LineItem(grid_x, y, grid_x + LABEL_W + grid_w, y, RULE, 0.6))

    # Rules: under the header, between stages (strong), around the grid.
    items.append(LineItem(grid_x, top + head_h, grid_x + LABEL_W + grid_w, top + head_h, STAGE_RULE, 0.9))
    for s_index in range(len(spans)):
        items.append(LineItem(stage_x[s_index], top, stage_x[s_index], top + grid_h, STAGE_RULE, 0.9))
    items.append(RectItem(grid_x, top, LABEL_W + grid_w, grid_h, "none", STAGE_RULE, 0.9))

    y = top + grid_h
    lay.height = _footer(m, fit, lay, y + 0.12) + MARGIN
    return lay


def _common_size(fit: Fitter, cells: list[tuple[list[str], float]], size: float, budget: float, bold: bool = False) -> float:
    """One size for a row of cells: the largest at which most of them fit. The odd cell that needs
    less (a long word, a very long name) shrinks on its own rather than the whole row."""
    sizes = sorted(fit.size_for(items, width, size, budget=budget, bold=bold) for items, width in cells if any(_clean(i) for i in items))
    sizes = [s for s in sizes if s > FLOOR] or sizes  # those at the floor are helped by nothing
    return sizes[len(sizes) // 6] if sizes else size


def _moved(item: object, dx: float, dy: float) -> object:
    if isinstance(item, (TextItem, DotItem)):
        return replace(item, x=item.x + dx, y=item.y + dy)
    return item


def _header(m: JourneyMap, fit: Fitter, lay: Layout, y: float) -> float:
    width = lay.width - 2 * MARGIN
    title = fit.block([m.title or m.label("map_title")], width, 16.0, budget=line_height(16.0) * 2, bold=True, floor=10.0)
    lay.items.append(TextItem(MARGIN, y, title, INK, width=width))
    y += title.height + 0.04
    sub = " · ".join(t for t in (m.label("map_title"), _clean(m.business)) if t)
    subtitle = fit.block([sub], width, 10.0, budget=line_height(10.0) * 2, floor=8.0)
    lay.items.append(TextItem(MARGIN, y, subtitle, GREY, width=width))
    return y + subtitle.height + 0.16


def _footer(m: JourneyMap, fit: Fitter, lay: Layout, y: float) -> float:
    half = (lay.width - 2 * MARGIN) / 2 - 0.1
    made = fit.block([m.label("made_by")], half, 7.5, budget=line_height(7.5) * 2)
    lay.items.append(TextItem(lay.width - MARGIN, y, made, GREY, "right", half))
    h = made.height
    if m.review_date:
        review = fit.block([f"{m.label('review')} {long_date(m.review_date, m.lang)}"], half, 7.5, budget=line_height(7.5) * 2)
        lay.items.append(TextItem(MARGIN, y, review, GREY, width=half))
        h = max(h, review.height)
    return y + h


def _lane_label(m: JourneyMap, fit: Fitter, lane: str) -> Block:
    return fit.block([m.label(lane)], LABEL_W - 2 * PAD, 8.0, budget=line_height(8.0) * 3, bold=True)


def _feeling_label_extras(m: JourneyMap, fit: Fitter, items: list, x: float, y: float, lane_label: Block) -> None:
    """Under the lane name: the scale (1 = ..., 5 = ...) and, when any stage has them, the customers' marker."""
    cy = y + PAD + lane_label.height + 0.04
    width = LABEL_W - 2 * PAD - 0.2  # room for the axis' tick numbers on the right
    scale = fit.block([m.label("feeling_scale_high"), m.label("feeling_scale_low")], width, 6.5, budget=0.55)
    items.append(TextItem(x + PAD, cy, scale, GREY, width=width))
    cy += scale.height + 0.05
    if any(s.customers is not None for s in m.stages):
        legend = fit.block([m.label("customers")], width - 0.14, 6.5, budget=0.3)
        items.append(DotItem(x + PAD + 0.05, cy + line_height(6.5) / 2, CUSTOMERS, 5.0, "D"))
        items.append(TextItem(x + PAD + 0.14, cy, legend, CUSTOMERS, width=width - 0.14))


def _curve(m: JourneyMap, columns: list[Column], spans: list[tuple[int, int]], x: float, y: float, w: float, h: float) -> CurveItem:
    feelings, known = [], []
    for c in columns:
        value = c.touchpoint.feeling if c.touchpoint is not None else None
        ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5
        feelings.append(float(value) if ok and value is not None else math.nan)
        known.append(c.touchpoint is not None and not ok)
    customers = []
    for stage, (first, count) in zip(m.stages, spans):
        if stage.customers is not None and 1 <= stage.customers <= 5:
            caption = _number(stage.customers, m.lang)
            if stage.responses:
                caption += f" ({stage.responses} {m.label('responses')})"
            customers.append((first + (count - 1) / 2, float(stage.customers), caption))
    boundaries = tuple(first - 0.5 for first, _ in spans[1:])
    between = tuple(first + k - 0.5 for first, count in spans for k in range(1, count))
    empty = m.label("no_touchpoints") if not any(c.touchpoint for c in columns) else ""
    return CurveItem(x, y, w, h, tuple(feelings), tuple(known), tuple(customers), boundaries, between, m.label("unknown"), empty)


def _persona(m: JourneyMap, fit: Fitter, width: float, available: float) -> tuple[list[object], float]:
    """The side panel's items (relative to its top-left) and their height, shrunk to fit `available`."""
    level = _evidence_level(m.persona_evidence)
    for size in (8.0, 7.5, 7.0, 6.5, FLOOR):
        items, h = _persona_at(m, fit, width, size, level, math.inf)
        if h <= available or size == FLOOR:
            break
    if h > available:  # still too tall at the floor: shorten the texts
        items, h = _persona_at(m, fit, width, FLOOR, level, available)
    return items, h


def _persona_at(m: JourneyMap, fit: Fitter, width: float, size: float, level: str, available: float) -> tuple[list[object], float]:
    items: list[object] = []
    y = 0.0
    heading = fit.block([m.label("persona")], width, size, bold=True)
    items.append(TextItem(0, y, heading, GREY, width=width))
    y += heading.height + 0.03
    name = fit.block([m.persona_name], width, size + 3, bold=True, budget=line_height(size + 3) * 3)
    items.append(TextItem(0, y, name, INK, width=width))
    y += name.height + 0.04
    light = fit.block([f"{m.label('evidence')}: {m.label(f'evidence_{level}')}"], width - 0.14, size - 0.5, budget=line_height(size) * 2)
    items.append(DotItem(0.05, y + line_height(light.size) / 2, EVIDENCE[level], 6.5))
    items.append(TextItem(0.14, y, light, GREY, width=width - 0.14))
    y += light.height + 0.1
    lines = [(lab, text) for lab, text in m.persona if _clean(text)]
    for n, (lab, text) in enumerate(lines):
        left = available - y
        if left < line_height(size) * 2 + 0.02:
            break
        head = fit.block([lab], width, size, bold=True, budget=line_height(size) * 2)
        items.append(TextItem(0, y, head, INK, width=width))
        y += head.height
        share = max(line_height(size), (available - y) / (len(lines) - n) - line_height(size) - 0.07)
        body = fit.block([text], width, size, budget=share if math.isfinite(available) else math.inf, floor=size)
        items.append(TextItem(0, y, body, INK, width=width))
        y += body.height + 0.07
    return items, y


# ---------------------------------------------------------------- choosing the column width


def plan(m: JourneyMap, fit: Fitter | None = None) -> Layout:
    """Try column widths and cell heights and keep the best page: the largest text once the page is
    scaled onto A3 landscape, with few cells given a smaller font and few words broken inside.
    A page much wider than A3 then gets a taller emotion curve, so that it prints well."""
    fit = fit or Fitter()
    best: Layout | None = None
    usable = (A3[0] - 2 * PAGE_MARGIN, A3[1] - 2 * PAGE_MARGIN)
    for room in ROOMS:
        tried: set[float] = set()
        for column in COLUMN_WIDTHS:
            fit.cells, fit.kept, fit.broken, fit.cut = 0, 0.0, 0, 0
            lay = layout(m, fit, column, room)
            if round(lay.column, 3) in tried:  # stretched to the minimum width: the same page again
                continue
            tried.add(round(lay.column, 3))
            across, down = usable[0] / lay.width, usable[1] / lay.height
            scale = min(across, down)
            lay.score = scale * (fit.kept / max(1, fit.cells)) ** 2 * 0.85**fit.broken * 0.9**fit.cut
            if best is None or lay.score > best.score + 1e-9:
                best = lay
            if across < down and scale < best.score:  # wider columns only make the page smaller from here
                break
    assert best is not None
    slack = best.width / TARGET_ASPECT - best.height
    if slack > 0.05:
        best = layout(m, fit, best.column, best.room, CURVE_HEIGHT + min(slack, CURVE_GROWTH))
    return best


def _empty_layout(m: JourneyMap, fit: Fitter) -> Layout:
    """No stages at all: the title, a sentence and the footer on a landscape page."""
    lay = Layout(A4[0], A4[1])
    y = _header(m, fit, lay, MARGIN)
    message = fit.block([m.label("no_touchpoints")], lay.width - 2 * MARGIN, 18.0, budget=1.0)
    lay.items.append(TextItem(lay.width / 2, max(y, (lay.height - message.height) / 2 - 0.3), message, GREY, "center", lay.width - 2 * MARGIN))
    _footer(m, fit, lay, lay.height - MARGIN - line_height(7.5) * 2)
    return lay


def page_layout(m: JourneyMap) -> Layout:
    fit = Fitter()
    with _quiet():
        return plan(m, fit) if m.stages else _empty_layout(m, fit)


# ---------------------------------------------------------------- drawing


@contextmanager
def _quiet() -> Iterator[None]:
    """Missing glyphs (emoji, scripts DejaVu Sans lacks) are drawn as boxes, without a warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph .* missing from")
        warnings.filterwarnings("ignore", message=r"Matplotlib currently does not support")
        yield


def draw(lay: Layout, fig: Figure, scale: float = 1.0, offset: tuple[float, float] = (0.0, 0.0)) -> list[tuple[Text, float, float]]:
    """Draw the layout on a figure whose size (inches) holds it at `scale`, `offset` from its
    top-left. Returns each text drawn with the room it must stay in (left and right, figure inches)."""
    fw, fh = fig.get_size_inches()
    ox, oy = offset
    texts: list[tuple[Text, float, float]] = []

    def fx(x: float) -> float:
        return (ox + x * scale) / fw

    def fy(y: float) -> float:
        return 1 - (oy + y * scale) / fh

    for item in lay.items:
        if isinstance(item, RectItem):
            fig.add_artist(
                Rectangle(
                    (fx(item.x), fy(item.y + item.h)),
                    item.w * scale / fw,
                    item.h * scale / fh,
                    transform=fig.transFigure,
                    facecolor=item.face,
                    edgecolor=item.edge,
                    linewidth=item.lw * scale,
                    zorder=0.5 if item.face != "none" else 2.5,
                )
            )
        elif isinstance(item, LineItem):
            fig.add_artist(
                Line2D([fx(item.x1), fx(item.x2)], [fy(item.y1), fy(item.y2)], transform=fig.transFigure, color=item.colour, linewidth=item.lw * scale, zorder=2)
            )
        elif isinstance(item, DotItem):
            fig.add_artist(
                Line2D(
                    [fx(item.x)],
                    [fy(item.y)],
                    transform=fig.transFigure,
                    marker=item.marker,
                    markersize=item.size * scale,
                    color=item.colour,
                    markeredgecolor="white",
                    markeredgewidth=0.5 * scale,
                    linestyle="none",
                    zorder=3,
                )
            )
        elif isinstance(item, TextItem):
            for text, dx, dy in item.block.lines:
                if item.align == "center":
                    x, ha, room = item.x, "center", (item.x - item.width / 2, item.x + item.width / 2)
                elif item.align == "right":
                    x, ha, room = item.x, "right", (item.x - item.width, item.x)
                else:
                    x, ha, room = item.x + dx, "left", (item.x + dx, item.x + item.width)
                artist = fig.text(
                    fx(x),
                    fy(item.y + dy),
                    text,
                    ha=ha,
                    va="top",
                    fontsize=item.block.size * scale,
                    fontweight="bold" if item.block.bold else "normal",
                    fontstyle="italic" if item.italic else "normal",
                    family=FONT,
                    color=item.colour,
                    parse_math=False,  # "$x$" stays two dollars and an x
                    usetex=False,
                    zorder=3,
                )
                texts.append((artist, ox + room[0] * scale, ox + room[1] * scale))
        elif isinstance(item, CurveItem):
            _draw_curve(item, fig, fx, fy, scale, fw, fh)
    return texts


def _draw_curve(item: CurveItem, fig: Figure, fx, fy, scale: float, fw: float, fh: float) -> None:
    pad = 0.09
    # Above the page's rules (it draws its own), below the page's texts.
    ax = fig.add_axes((fx(item.x), fy(item.y + item.h - pad), item.w * scale / fw, (item.h - 2 * pad) * scale / fh), zorder=2.2)
    n = len(item.feelings)
    for level, colour in BANDS.items():
        ax.axhspan(level - 0.5, level + 0.5, color=colour, zorder=0, lw=0)
    for b in item.boundaries:
        ax.axvline(b, color=STAGE_RULE, lw=0.9 * scale, zorder=1)
    for b in item.between:
        ax.axvline(b, color=RULE, lw=0.4 * scale, zorder=1)
    xs = list(range(n))
    ax.plot(xs, item.feelings, color=CURVE, lw=2.0 * scale, marker="o", ms=10 * scale, markerfacecolor="white", markeredgewidth=1.6 * scale, zorder=4)
    for x, value in zip(xs, item.feelings):
        if not math.isnan(value):
            ax.text(x, value, str(int(value)), ha="center", va="center_baseline", fontsize=6.5 * scale, color=CURVE, fontweight="bold", zorder=5, family=FONT, parse_math=False)
    for x, unknown in zip(xs, item.known):
        if unknown:
            ax.text(x, 3, item.unknown, ha="center", va="center", fontsize=10 * scale, color=GREY, zorder=4, family=FONT, parse_math=False)
    for cx, score, caption in item.customers:
        ax.plot([cx], [score], marker="D", ms=6.0 * scale, color=CUSTOMERS, markeredgecolor="white", markeredgewidth=0.6 * scale, linestyle="none", zorder=6)
        ax.annotate(
            caption,
            (cx, score),
            xytext=(6 * scale, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=6.5 * scale,
            color=CUSTOMERS,
            zorder=6,
            family=FONT,
            parse_math=False,
            bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none", "boxstyle": "round,pad=0.2"},
        )
    if item.empty:
        ax.text((n - 1) / 2, 3, item.empty, ha="center", va="center", fontsize=8 * scale, color=GREY, family=FONT, parse_math=False)
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(0.5, 5.5)
    ax.set_xticks([])
    ax.set_yticks([])
    for level in BANDS:  # the scale's numbers, left of the bands (drawn as plain texts: never TeX)
        ax.annotate(
            str(level),
            (0, level),
            xycoords=("axes fraction", "data"),
            xytext=(-4 * scale, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=6.5 * scale,
            color=GREY,
            family=FONT,
            parse_math=False,
            usetex=False,
        )
    for spine in ax.spines.values():
        spine.set_visible(False)


# ---------------------------------------------------------------- the two formats


def render_png(m: JourneyMap) -> bytes:
    """The map as a PNG at about 150 dpi, as large as its content."""
    with _quiet():
        lay = page_layout(m)
        dpi = min(DPI, MAX_PNG_WIDTH / lay.width)
        fig = Figure(figsize=(lay.width, lay.height), dpi=dpi, facecolor="white")
        draw(lay, fig)
        buffer = io.BytesIO()
        FigureCanvasAgg(fig).print_png(buffer, metadata={"Software": "journeybot"})
        fig.clear()
    return buffer.getvalue()


def render_pdf(m: JourneyMap) -> bytes:
    """The map on one landscape page (A4 when it fits there legibly, else A3), text kept as text."""
    with _quiet():
        lay = page_layout(m)
        page = A4
        scale = min((A4[0] - 2 * PAGE_MARGIN) / lay.width, (A4[1] - 2 * PAGE_MARGIN) / lay.height)
        if scale < 0.9:
            page = A3
            scale = min((A3[0] - 2 * PAGE_MARGIN) / lay.width, (A3[1] - 2 * PAGE_MARGIN) / lay.height)
        scale = min(scale, 1.2)
        offset = ((page[0] - lay.width * scale) / 2, (page[1] - lay.height * scale) / 2)
        fig = Figure(figsize=page, dpi=72, facecolor="white")
        draw(lay, fig, scale, offset)
        buffer = io.BytesIO()
        with _PDF_LOCK, matplotlib.rc_context({"pdf.fonttype": 42, "text.usetex": False}):
            FigureCanvasPdf(fig).print_pdf(buffer, metadata={"Title": _clean(m.title) or m.label("map_title"), "Creator": "journeybot"})
        fig.clear()
    return buffer.getvalue()
