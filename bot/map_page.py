"""The journey map as one shareable web page: a single self-contained HTML file.

The map (bot.journey_map) is drawn as a table: stages across, each as wide as its touchpoints, and
one row per lane (touchpoints, channel, the feeling as an SVG emotion curve, the customers' scores,
pains, what already delights, improvements and WOW ideas placed where they happen, team). The
persona sits in a side panel. Under the map come the report's sections, taken from
bot.report_sections like every other renderer, so the texts are those of the chat and the export.

Inline CSS only: no scripts, no fonts, no images, no request of any kind. Every text is escaped;
the owner's texts also get dir="auto", so a right-to-left answer reads right. Print is one A4 page
across (landscape), with the map as wide as the page.
"""
from __future__ import annotations

import html
import re
from typing import Any, Callable, Iterable

from bot.journey_map import JourneyMap, MapStage, MapTouchpoint
from bot.report import Report
from bot.report_sections import Item, Section, long_date, report_sections
from bot.report_sections import texts as report_texts

SECTIONS = ("summary", "improvements", "wow", "mistakes", "calendar", "review")  # the report's parts shown under the map
WIDE = frozenset({"summary", "improvements", "wow", "review"})  # sections across the page's full width
SCORE_COLOURS = {1: "#d64545", 2: "#ea8a3a", 3: "#d9b02c", 4: "#72b35a", 5: "#2d9b5a"}
LIGHT_COLOURS = {"green": "#2d9b5a", "amber": "#e39b12", "red": "#d64545", "unknown": "#b4bcc7"}
STAGE_HUES = ("#3566c9", "#7656c2", "#c27c1e", "#23908a", "#b84c82", "#4d8a35", "#5d6d83")
CURVE_HEIGHT = 128  # px on screen; print CSS makes it lower
CURVE_PAD = 14  # percent of the height above 5 and under 1, for the markers
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def esc(text: Any) -> str:
    """Text for HTML content and attribute values: escaped, control characters dropped."""
    return html.escape(_CONTROL.sub(" ", str(text)), quote=True)


def _own(text: Any, tag: str = "span", cls: str = "") -> str:
    """The owner's text (or one quoting it), in its own direction."""
    klass = f' class="{cls}"' if cls else ""
    return f'<{tag}{klass} dir="auto">{esc(text)}</{tag}>'


def render_html(m: JourneyMap, report: Report | None, *, today: str) -> str:
    page_title = " · ".join(p for p in (m.title, m.label("map_title")) if p)
    review = m.review_date or (report.review_date if report is not None else "")
    sections = [s for s in report_sections(report, m.lang) if s.key in SECTIONS] if report is not None else []
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(m.lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(page_title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        '<div class="page">',
        _header(m, review),
        '<main class="layout">',
        _persona(m),
        _map(m, report),
        "</main>",
    ]
    if report is not None and sections:
        parts.append('<div class="report">')
        parts += [_section(s, report, m.lang) for s in sections]
        parts.append("</div>")
    made = " · ".join(p for p in (m.label("made_by"), long_date(today, m.lang) if today else "") if p)
    parts += [f'<footer class="foot">{esc(made)}</footer>', "</div>", "</body>", "</html>", ""]
    return "\n".join(parts)


def _header(m: JourneyMap, review: str) -> str:
    lines = ['<header class="top">', "<div>", f'<p class="eyebrow">{esc(m.label("map_title"))}</p>']
    lines.append(f"<h1>{_own(m.title or m.label('map_title'))}</h1>")
    if m.business and m.business != m.title:
        lines.append(f'<p class="business">{_own(m.business)}</p>')
    lines.append("</div>")
    if review:
        lines.append(f'<p class="review-date">{esc(m.label("review"))} <strong>{esc(long_date(review, m.lang))}</strong></p>')
    lines.append("</header>")
    return "\n".join(lines)


def _light(m: JourneyMap, level: str) -> str:
    level = level if level in LIGHT_COLOURS else "unknown"
    return (
        f'<span class="light light-{level}" title="{esc(m.label("evidence"))}">'
        f'<i aria-hidden="true"></i>{esc(m.label(f"evidence_{level}"))}</span>'
    )


def _initials(name: str) -> str:
    words = [w for w in name.split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def _persona(m: JourneyMap) -> str:
    name = m.persona_name or m.label("persona")
    lines = [
        '<aside class="persona card">',
        '<div class="persona-head">',
        f'<div class="avatar" aria-hidden="true">{esc(_initials(m.persona_name))}</div>',
        f'<div><p class="eyebrow">{esc(m.label("persona"))}</p><h2>{_own(name)}</h2></div>',
        "</div>",
    ]
    if m.persona:
        lines.append("<dl>")
        for label, text in m.persona:
            lines.append(f"<div><dt>{esc(label)}</dt><dd>{_own(text)}</dd></div>")
        lines.append("</dl>")
    lines.append(f'<p class="persona-evidence"><span class="muted">{esc(m.label("evidence"))}:</span> {_light(m, m.persona_evidence)}</p>')
    lines.append("</aside>")
    return "\n".join(lines)


# --- the map -------------------------------------------------------------------------------------


def _columns(m: JourneyMap) -> list[tuple[int, MapStage, MapTouchpoint | None]]:
    """One column per touchpoint, and one for a stage without touchpoints: (stage index, stage, touchpoint)."""
    columns: list[tuple[int, MapStage, MapTouchpoint | None]] = []
    for index, stage in enumerate(m.stages):
        if stage.touchpoints:
            columns += [(index, stage, tp) for tp in stage.touchpoints]
        else:
            columns.append((index, stage, None))
    return columns


def _numbers(report: Report | None) -> tuple[dict[str, int], dict[str, int]]:
    """The number of each improvement (by title) and WOW idea (by idea) in the sections under the map."""
    if report is None:
        return {}, {}
    improvements: dict[str, int] = {}
    for n, card in enumerate(report.improvements, start=1):
        improvements.setdefault(card.title, n)
    wows: dict[str, int] = {}
    for n, wow in enumerate(report.wow_moments, start=1):
        wows.setdefault(wow.idea, n)
    return improvements, wows


def _map(m: JourneyMap, report: Report | None) -> str:
    columns = _columns(m)
    n = max(1, len(columns))
    improvement_no, wow_no = _numbers(report)
    unknown = esc(m.label("unknown"))

    def lane(key: str, extra: str = "", rowspan: int = 1) -> str:
        span = f' rowspan="{rowspan}"' if rowspan > 1 else ""
        return f'<th scope="row" class="lane"{span}><span class="lane-name">{esc(m.label(key))}</span>{extra}</th>'

    def per_column(cell: Callable[[MapStage, MapTouchpoint | None], str]) -> str:
        cells = []
        for i, (index, stage, tp) in enumerate(columns):
            first = i == 0 or columns[i - 1][0] != index
            klass = f"s{index % len(STAGE_HUES)}" + (" first" if first else "")
            cells.append(f'<td class="{klass}">{cell(stage, tp)}</td>')
        return "".join(cells)

    def per_stage(cell: Callable[[MapStage], str]) -> str:
        cells = []
        for index, stage in enumerate(m.stages):
            span = max(1, len(stage.touchpoints))
            cells.append(f'<td colspan="{span}" class="s{index % len(STAGE_HUES)} first">{cell(stage)}</td>')
        return "".join(cells)

    def placed(kind: str, items: Iterable[str]) -> str:
        numbers = improvement_no if kind == "improvements" else wow_no
        anchor = "improvement" if kind == "improvements" else "wow"
        out = []
        for text in items:
            number = numbers.get(text)
            badge = esc(number) if number is not None else ("★" if kind == "wows" else "•")
            body = f'<b class="badge">{badge}</b>{_own(text, cls="clamp")}'
            klass = "idea imp" if kind == "improvements" else "idea wow"
            if number is not None:
                out.append(f'<a class="{klass}" href="#{anchor}-{number}">{body}</a>')
            else:
                out.append(f'<span class="{klass}">{body}</span>')
        return "".join(out)

    rows: list[str] = []
    # stages, with their evidence light
    heads = [f'<th scope="col" class="lane corner"><span class="lane-name">{esc(m.label("stages"))}</span></th>']
    for index, stage in enumerate(m.stages):
        span = max(1, len(stage.touchpoints))
        heads.append(
            f'<th scope="colgroup" colspan="{span}" class="stage s{index % len(STAGE_HUES)} first">'
            f'<span class="stage-no">{index + 1}</span>{_own(stage.name, cls="stage-name")}'
            f'<span class="stage-evidence">{_light(m, stage.evidence)}</span></th>'
        )
    rows.append('<thead><tr class="stages">' + "".join(heads) + "</tr></thead>")
    body: list[str] = []
    body.append(
        '<tr class="touchpoints">' + lane("touchpoints")
        + per_column(lambda s, tp: _own(tp.name, cls="tp-name") if tp else f'<span class="muted">{esc(m.label("no_touchpoints"))}</span>')
        + "</tr>"
    )
    body.append(
        '<tr class="channels">' + lane("channel")
        + per_column(lambda s, tp: (_own(tp.channel, cls="chip") if tp.channel else f'<span class="muted">{unknown}</span>') if tp else "")
        + "</tr>"
    )
    has_customers = any(s.customers is not None for s in m.stages)
    scale = f'<span class="scale"><span>{esc(m.label("feeling_scale_high"))}</span><span>{esc(m.label("feeling_scale_low"))}</span></span>'
    legend = f'<span class="legend"><i aria-hidden="true"></i>{esc(m.label("customers"))}</span>' if has_customers else ""
    body.append(f'<tr class="feeling">{lane("feeling", scale + legend)}<td colspan="{n}" class="curve-cell">{_curve(m, columns)}</td></tr>')
    if has_customers:
        decimal = str(report_texts(m.lang)["decimal"])

        def customers(stage: MapStage) -> str:
            if stage.customers is None:
                return f'<span class="muted">{unknown}</span>'
            score = f"{stage.customers:.1f}".replace(".", decimal)
            return (
                f'<span class="score" style="--score:{SCORE_COLOURS[_band(stage.customers)]}">{esc(score)}</span>'
                f'<span class="muted"> / 5 · {esc(stage.responses)} {esc(m.label("responses"))}</span>'
            )

        body.append('<tr class="customers">' + lane("customers") + per_stage(customers) + "</tr>")
    body.append('<tr class="pains">' + lane("pains") + per_column(lambda s, tp: _own(tp.pain, cls="pain") if tp and tp.pain else "") + "</tr>")
    body.append('<tr class="delights">' + lane("delights") + per_stage(lambda s: _own(s.delights, cls="delight") if s.delights else "") + "</tr>")
    for kind in ("improvements", "wows"):
        whole_stage = any(getattr(s, kind) for s in m.stages)
        first_row = per_column(lambda s, tp, kind=kind: placed(kind, getattr(tp, kind)) if tp else "")  # type: ignore[misc]
        body.append(f'<tr class="{kind}">' + lane(kind, rowspan=2 if whole_stage else 1) + first_row + "</tr>")
        if whole_stage:
            body.append(f'<tr class="{kind} whole">' + per_stage(lambda s, kind=kind: placed(kind, getattr(s, kind))) + "</tr>")  # type: ignore[misc]
    body.append(
        '<tr class="team">' + lane("team")
        + per_column(lambda s, tp: (_own(tp.team) if tp.team else f'<span class="muted">{unknown}</span>') if tp else "")
        + "</tr>"
    )
    rows.append("<tbody>" + "\n".join(body) + "</tbody>")
    cols = '<colgroup><col class="lane-col">' + '<col>' * n + "</colgroup>"
    return (
        '<section class="map-wrap">'
        f'<div class="map-scroll"><table class="map" style="--n:{n}">{cols}\n' + "\n".join(rows) + "</table></div></section>"
    )


def _band(score: float) -> int:
    return max(1, min(5, int(round(score))))


def _y(score: float) -> float:
    """Where a score sits, in percent of the curve's height from the top (5 high, 1 low)."""
    return CURVE_PAD + (5 - max(1.0, min(5.0, score))) / 4 * (100 - 2 * CURVE_PAD)


def _curve(m: JourneyMap, columns: list[tuple[int, MapStage, MapTouchpoint | None]]) -> str:
    """The emotion curve as SVG, one point per column, aligned with the table's equal columns.

    Everything is placed in percentages of the box, so CSS sets its size (smaller in print) and
    the markers stay round at any width; the line and its shade are drawn in a stretched
    100×100 box with strokes that do not stretch. A missing feeling, or a stage without
    touchpoints, leaves a gap in the line."""
    n = max(1, len(columns))

    def x(i: float) -> float:
        return (i + 0.5) / n * 100

    out = [
        f'<svg class="curve" width="100%" height="{CURVE_HEIGHT}" role="img" aria-label="{esc(m.label("feeling"))}">',
        '<defs><linearGradient id="curve-shade" x1="0" y1="0" x2="0" y2="1">'
        '<stop offset="0" stop-color="#2d9b5a" stop-opacity="0.20"/><stop offset="1" stop-color="#d64545" stop-opacity="0.06"/>'
        "</linearGradient></defs>",
    ]
    for score in range(1, 6):
        out.append(f'<line class="guide{" mid" if score == 3 else ""}" x1="0" x2="100%" y1="{_y(score):.2f}%" y2="{_y(score):.2f}%"/>')
    for i in range(1, n):
        if columns[i][0] != columns[i - 1][0]:
            out.append(f'<line class="sep" x1="{i / n * 100:.3f}%" x2="{i / n * 100:.3f}%" y1="0" y2="100%"/>')
    # the line, in runs of neighbouring known feelings
    runs: list[list[tuple[float, float]]] = []
    run: list[tuple[float, float]] = []
    for i, (_, _, tp) in enumerate(columns):
        if tp is not None and tp.feeling is not None:
            run.append((x(i), _y(tp.feeling)))
        elif run:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    paths = []
    for points in runs:
        if len(points) < 2:
            continue
        line = f"M{points[0][0]:.3f},{points[0][1]:.2f}"
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            mid = (x0 + x1) / 2
            line += f" C{mid:.3f},{y0:.2f} {mid:.3f},{y1:.2f} {x1:.3f},{y1:.2f}"
        shade = f"{line} L{points[-1][0]:.3f},100 L{points[0][0]:.3f},100 Z"
        paths.append(f'<path class="shade" d="{shade}"/><path class="line" d="{line}" vector-effect="non-scaling-stroke"/>')
    if paths:
        out.append(f'<svg x="0" y="0" width="100%" height="100%" viewBox="0 0 100 100" preserveAspectRatio="none">{"".join(paths)}</svg>')
    # the customers' average per stage, as a dashed line across the stage
    start = 0
    for stage in m.stages:
        span = max(1, len(stage.touchpoints))
        if stage.customers is not None:
            y = _y(stage.customers)
            x1, x2 = (start + 0.12) / n * 100, (start + span - 0.12) / n * 100
            out.append(f'<line class="customers" x1="{x1:.3f}%" x2="{x2:.3f}%" y1="{y:.2f}%" y2="{y:.2f}%"/>')
        start += span
    for i, (_, _, tp) in enumerate(columns):
        if tp is None or tp.feeling is None:
            continue
        cx, cy = f"{x(i):.3f}%", f"{_y(tp.feeling):.2f}%"
        out.append(f'<circle cx="{cx}" cy="{cy}" r="11" fill="{SCORE_COLOURS[_band(tp.feeling)]}"/>')
        out.append(f'<text x="{cx}" y="{cy}" text-anchor="middle" dominant-baseline="central">{esc(tp.feeling)}</text>')
    out.append("</svg>")
    return "".join(out)


# --- the report under the map --------------------------------------------------------------------


def _section(section: Section, report: Report, lang: str) -> str:
    wide = " wide" if section.key in WIDE else ""
    lines = [f'<section class="block block-{esc(section.key)}{wide}">', f"<h2>{esc(section.heading)}</h2>"]
    if section.intro:
        lines.append(f'<p class="muted">{_own(section.intro)}</p>')
    if not section.items:
        lines.append(f'<p class="muted">{esc(report_texts(lang)["none"])}</p>')
    elif section.key == "review":
        lines += [f'<p class="review">{_own(line)}</p>' for item in section.items for line in item.body]
    elif section.layout == "paragraphs":
        lines.append('<div class="prose">')
        lines += [_own(line, "p") for item in section.items for line in item.body]
        lines.append("</div>")
    elif section.layout == "cards":
        lines.append('<div class="cards">')
        lines += [_card(section.key, item, n, report) for n, item in enumerate(section.items, start=1)]
        lines.append("</div>")
    elif section.columns and all(item.cells for item in section.items):
        lines.append('<div class="table-scroll"><table class="plain"><thead><tr>')
        lines += [f'<th scope="col">{esc(c)}</th>' for c in section.columns]
        lines.append("</tr></thead><tbody>")
        for item in section.items:
            lines.append("<tr>" + "".join(f"<td>{_own(c)}</td>" for c in item.cells) + "</tr>")
        lines.append("</tbody></table></div>")
    else:
        lines.append('<ul class="checks">')
        for item in section.items:
            state = "" if item.done is None else (" ok" if item.done else " not-ok")
            mark = f'<span class="mark" aria-hidden="true">{esc(item.mark)}</span>' if item.mark else ""
            if item.done is not None:  # a drawn mark: the emoji needs a font the reader may not have
                mark = ICON_OK if item.done else ICON_NOT_OK
                mark = mark.replace("<svg ", f'<svg role="img" aria-label="{esc(item.mark)}" ', 1)
            number = f'<span class="no">{esc(item.number)}</span>' if item.number is not None else ""
            text = "".join(_own(line, "p") for line in item.body)
            meta = f'<p class="meta">{_own(item.meta)}</p>' if item.meta else ""
            lines.append(f'<li class="card check{state}">{mark}<div>{number}<strong>{_own(item.title)}</strong>{text}{meta}</div></li>')
        lines.append("</ul>")
    lines.append("</section>")
    return "\n".join(lines)


def _card(key: str, item: Item, n: int, report: Report) -> str:
    """An improvement (why, then its actions) or a WOW idea, with the answer that led to it."""
    anchor = "improvement" if key == "improvements" else "wow"
    number = item.number if item.number is not None else n
    actions = 0
    if key == "improvements" and 0 < number <= len(report.improvements):
        actions = min(len(report.improvements[number - 1].actions), len(item.body))
    why, todo = item.body[: len(item.body) - actions], item.body[len(item.body) - actions :]
    badge = esc(number)
    lines = [
        f'<article class="card idea-card {esc(key)}" id="{anchor}-{number}">',
        f'<h3><span class="badge">{badge}</span>{_own(item.title)}</h3>',
    ]
    if item.meta:
        lines.append(f'<p class="meta">{_own(item.meta)}</p>')
    lines += [_own(line, "p") for line in why]
    if todo:
        lines.append('<ul class="actions">' + "".join(_own(line, "li") for line in todo) + "</ul>")
    if item.quote:
        lines.append(f'<p class="quote">{_own(item.quote)}</p>')
    lines.append("</article>")
    return "\n".join(lines)


ICON_OK = (
    '<svg class="mark" width="20" height="20" viewBox="0 0 20 20"><circle cx="10" cy="10" r="10" fill="#2d9b5a"/>'
    '<path d="M5.5 10.5l3 3 6-6.5" fill="none" stroke="#fff" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/></svg>'
)
ICON_NOT_OK = (
    '<svg class="mark" width="20" height="20" viewBox="0 0 20 20"><path d="M10 1.5l9 16.5H1z" fill="#e39b12" stroke="#e39b12" '
    'stroke-width="1.5" stroke-linejoin="round"/><path d="M10 7.5v5" stroke="#fff" stroke-width="2.2" stroke-linecap="round"/>'
    '<circle cx="10" cy="15.3" r="1.3" fill="#fff"/></svg>'
)

CSS = """
:root {
  color-scheme: light;
  --ink: #1d2433; --soft: #5b6577; --line: #e3e7ee; --paper: #f4f6f9; --card: #ffffff;
  --accent: #2747a8; --pain: #c2412d; --delight: #2d8a55; --wow: #b7791f;
  --lane-w: 128px; --col-min: 70px;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0; background: var(--paper); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif;
  overflow-wrap: anywhere; hyphens: auto;
}
.page { max-width: 1680px; margin: 0 auto; padding: 20px 20px 28px; }
h1, h2, h3, p, dl, dd, ul { margin: 0; }
.muted { color: var(--soft); }
.eyebrow { text-transform: uppercase; letter-spacing: .08em; font-size: 11px; font-weight: 700; color: var(--accent); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; break-inside: avoid; page-break-inside: avoid; }

.top { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: flex-end; justify-content: space-between; margin-bottom: 16px; }
.top h1 { font-size: 26px; line-height: 1.2; margin-top: 2px; }
.business { color: var(--soft); font-size: 15px; margin-top: 2px; }
.review-date { background: var(--card); border: 1px solid var(--line); border-radius: 999px; padding: 6px 14px; font-size: 13px; color: var(--soft); }
.review-date strong { color: var(--ink); }

.layout { display: grid; grid-template-columns: minmax(0, 1fr); gap: 16px; align-items: start; }
@media (min-width: 1500px) { .layout { grid-template-columns: 240px minmax(0, 1fr); } }

.persona { padding: 16px; }
.persona-head { display: flex; gap: 12px; align-items: center; margin-bottom: 12px; }
.avatar { flex: none; width: 46px; height: 46px; border-radius: 50%; display: grid; place-items: center;
  background: linear-gradient(135deg, #3566c9, #7656c2); color: #fff; font-weight: 700; font-size: 17px; }
.persona h2 { font-size: 17px; line-height: 1.25; }
.persona dl { display: grid; gap: 10px; }
@media (max-width: 1499px) {
  .persona { display: grid; grid-template-columns: 190px minmax(0, 1fr); gap: 8px 20px; }
  .persona-head { flex-direction: column; align-items: flex-start; margin: 0; }
  .persona dl { grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 10px 18px; }
  .persona-evidence { grid-column: 1; grid-row: 2; margin: 0; padding: 0; border: 0; align-self: end; }
  .persona dl { grid-column: 2; grid-row: 1 / span 2; }
}
@media (max-width: 640px) {
  .persona { display: block; }
  .persona-head { flex-direction: row; align-items: center; margin-bottom: 12px; }
  .persona-evidence { margin-top: 12px; padding-top: 10px; border-top: 1px solid var(--line); }
}
.persona dt { font-size: 11px; font-weight: 700; text-transform: uppercase; letter-spacing: .05em; color: var(--soft); }
.persona dd { font-size: 13px; }
.persona-evidence { margin-top: 12px; padding-top: 10px; border-top: 1px solid var(--line); font-size: 12px; }

.light { display: inline-block; max-width: 100%; font-size: 11px; font-weight: 600; color: var(--soft); }
.light i { display: inline-block; margin-inline-end: 5px; vertical-align: 0; width: 9px; height: 9px; border-radius: 50%; background: var(--c); box-shadow: 0 0 0 2px color-mix(in srgb, var(--c) 25%, transparent); }
.light-green { --c: #2d9b5a; } .light-amber { --c: #e39b12; } .light-red { --c: #d64545; } .light-unknown { --c: #b4bcc7; }

.map-wrap { min-width: 0; }
.map-scroll { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 12px; }
table.map { border-collapse: separate; border-spacing: 0; table-layout: fixed; width: 100%;
  min-width: calc(var(--lane-w) + var(--n) * var(--col-min)); font-size: 11.5px; line-height: 1.35; }
table.map col.lane-col { width: var(--lane-w); }
table.map th, table.map td { padding: 6px 5px; vertical-align: top; text-align: start; border-bottom: 1px solid var(--line); }
table.map tr:last-child > * { border-bottom: 0; }
table.map td.first { border-left: 1px solid #d4dae4; }
.s0 { --hue: #3566c9; } .s1 { --hue: #7656c2; } .s2 { --hue: #c27c1e; } .s3 { --hue: #23908a; }
.s4 { --hue: #b84c82; } .s5 { --hue: #4d8a35; } .s6 { --hue: #5d6d83; }
th.lane { position: sticky; left: 0; z-index: 2; background: #f8f9fb; border-right: 1px solid var(--line); font-weight: 700;
  font-size: 10.5px; color: #3e4859; padding-inline: 7px; }
.lane-name { display: block; }
th.stage { background: color-mix(in srgb, var(--hue) 10%, #fff); border-top: 4px solid var(--hue); border-left: 1px solid #d4dae4; padding: 8px 9px 9px; }
.stage-no { display: inline-grid; place-items: center; width: 19px; height: 19px; border-radius: 50%; background: var(--hue); color: #fff;
  font-size: 11px; margin-inline-end: 6px; vertical-align: 1px; }
.stage-name { font-size: 13.5px; font-weight: 700; color: var(--ink); }
.stage-evidence { display: block; margin-top: 4px; }
.tp-name { font-weight: 600; font-size: 11.5px; }
.chip { display: inline-block; max-width: 100%; background: color-mix(in srgb, var(--hue) 9%, #fff); color: color-mix(in srgb, var(--hue) 70%, #000);
  border: 1px solid color-mix(in srgb, var(--hue) 22%, #fff); border-radius: 6px; padding: 1px 4px; font-size: 10px; font-weight: 600; }
td.curve-cell { padding: 0; background: linear-gradient(#fff, #fbfcfd); }
svg.curve { display: block; overflow: visible; }
svg.curve .guide { stroke: #e6e9ef; stroke-width: 1; stroke-dasharray: 2 4; }
svg.curve .guide.mid { stroke: #cfd5df; stroke-dasharray: none; }
svg.curve .sep { stroke: #d4dae4; stroke-width: 1; }
svg.curve .shade { fill: url(#curve-shade); stroke: none; }
svg.curve .line { fill: none; stroke: #2a3550; stroke-width: 2.5; stroke-linecap: round; }
svg.curve .customers { stroke: #2747a8; stroke-width: 2.5; stroke-dasharray: 6 4; stroke-linecap: round; }
svg.curve circle { stroke: #fff; stroke-width: 2.5; }
svg.curve text { fill: #fff; font-size: 11.5px; font-weight: 700; font-family: inherit; }
.scale { display: flex; flex-direction: column; justify-content: space-between; height: 86px; margin-top: 6px;
  font-weight: 500; text-transform: none; letter-spacing: 0; font-size: 10.5px; }
.legend { display: flex; align-items: center; gap: 5px; margin-top: 8px; text-transform: none; letter-spacing: 0; font-weight: 500; font-size: 10.5px; }
.legend i { width: 18px; border-top: 2.5px dashed #2747a8; }
.score { display: inline-block; min-width: 30px; text-align: center; font-weight: 700; color: #fff; background: var(--score); border-radius: 6px; padding: 1px 5px; }
.pain { display: block; border-inline-start: 3px solid var(--pain); padding-inline-start: 6px; color: #6e2419; }
.delight { display: block; border-inline-start: 3px solid var(--delight); padding-inline-start: 6px; color: #1f5a39; }
tr.delights td { background: #fbfdfb; }
.idea { display: flex; gap: 5px; align-items: flex-start; color: inherit; text-decoration: none; margin-bottom: 5px; }
.idea:last-child { margin-bottom: 0; }
.idea > span { min-width: 0; }
.idea .badge { flex: none; display: inline-grid; place-items: center; min-width: 17px; height: 17px; border-radius: 5px; font-size: 10px; color: #fff; }
.imp .badge { background: var(--accent); }
.wow .badge { background: var(--wow); }
.wow .clamp { display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 5; overflow: hidden; }
.idea.wow .clamp { color: #5e4316; }
tr.whole td { padding-top: 0; }
tr.team td { color: var(--soft); font-size: 11.5px; }

.report { display: grid; grid-template-columns: minmax(0, 1fr); gap: 16px; margin-top: 22px; }
@media (min-width: 900px) { .report { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); } .block.wide { grid-column: 1 / -1; } }
.block h2 { font-size: 18px; margin-bottom: 10px; }
.prose { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 16px 18px; columns: 2 380px; column-gap: 32px; }
.prose p { margin: 0 0 10px; break-inside: avoid; }
.cards { display: grid; gap: 12px; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); align-items: start; }
.idea-card { padding: 14px 16px; display: flex; flex-direction: column; gap: 6px; border-top: 4px solid var(--accent); }
.idea-card.wow { border-top-color: var(--wow); }
.idea-card h3 { font-size: 14.5px; line-height: 1.3; display: flex; gap: 8px; align-items: flex-start; }
.idea-card h3 .badge { flex: none; display: inline-grid; place-items: center; min-width: 22px; height: 22px; border-radius: 6px; background: var(--accent); color: #fff; font-size: 12px; }
.idea-card.wow h3 .badge { background: var(--wow); }
.idea-card p { font-size: 13px; }
p.meta { color: var(--soft); font-size: 12px; }
.actions { list-style: none; padding: 0; display: grid; gap: 4px; font-size: 13px; }
.actions li { background: #f3f6fc; border-radius: 8px; padding: 6px 9px; }
p.quote { color: var(--soft); font-style: italic; font-size: 12px; border-inline-start: 3px solid var(--line); padding-inline-start: 8px; }
.checks { list-style: none; padding: 0; display: grid; gap: 8px; }
.check { display: flex; gap: 10px; padding: 10px 12px; font-size: 13px; }
.check.ok { border-inline-start: 4px solid var(--delight); }
.check.not-ok { border-inline-start: 4px solid #e39b12; background: #fffaf0; }
.check .mark { flex: none; }
.check .no { display: inline-block; min-width: 18px; color: var(--soft); font-weight: 700; }
.check p { color: var(--soft); margin-top: 2px; }
.table-scroll { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 12px; }
table.plain { border-collapse: collapse; width: 100%; font-size: 13px; overflow-wrap: break-word; }
table.plain th { text-align: start; font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--soft); background: #f8f9fb; }
table.plain th, table.plain td { padding: 8px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
table.plain tr:last-child td { border-bottom: 0; }
table.plain tr { break-inside: avoid; }
.review { background: var(--card); border: 1px solid var(--line); border-inline-start: 4px solid var(--accent); border-radius: 12px; padding: 12px 16px; font-weight: 600; }
.foot { margin-top: 24px; color: var(--soft); font-size: 12px; text-align: center; }

@media (max-width: 640px) {
  :root { --lane-w: 92px; --col-min: 118px; }
  .page { padding: 12px 12px 20px; }
  .top h1 { font-size: 21px; }
  .prose { columns: 1; }
  .cards { grid-template-columns: minmax(0, 1fr); }
}

@page { size: A4 landscape; margin: 7mm 8mm; }
@media print {
  :root { --lane-w: 92px; --col-min: 0px; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { background: #fff; font-size: 10px; }
  .page { max-width: none; padding: 0; }
  .top { margin-bottom: 8px; }
  .top h1 { font-size: 18px; }
  .layout { display: block; }
  .persona { padding: 8px 10px; margin-bottom: 8px; border-radius: 8px; }
  .persona-head { margin-bottom: 6px; }
  .avatar { width: 30px; height: 30px; font-size: 12px; }
  .persona h2 { font-size: 13px; }
  .persona dl { grid-template-columns: repeat(7, minmax(0, 1fr)); gap: 4px 10px; }
  .persona dd { font-size: 8px; line-height: 1.3; }
  .persona dt { font-size: 7px; }
  .persona { grid-template-columns: 120px minmax(0, 1fr); gap: 4px 12px; }
  .review-date { font-size: 9px; padding: 3px 10px; }
  .business { font-size: 11px; }
  .persona-evidence { margin-top: 6px; padding-top: 5px; font-size: 9px; }
  .map-scroll { overflow: visible; border-radius: 8px; }
  table.map { min-width: 0; width: 100%; font-size: 8px; line-height: 1.25; }
  table.map th, table.map td { padding: 3px 4px; }
  tr.team td { font-size: 7.5px; }
  .idea { margin-bottom: 3px; gap: 3px; }
  .idea > span { min-width: 0; }
.idea .badge { min-width: 12px; height: 12px; font-size: 7px; border-radius: 3px; }
  .idea .clamp { display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 3; overflow: hidden; }
  th.stage { padding: 4px 5px 5px; border-top-width: 3px; }
  .stage-evidence { margin-top: 2px; }
  .persona { margin-bottom: 6px; }
  .stage-no { width: 14px; height: 14px; font-size: 8px; }
  th.lane { position: static; font-size: 7.5px; }
  .stage-name { font-size: 10px; }
  .tp-name { font-size: 9px; }
  .chip { font-size: 8px; padding: 0 3px; }
  .light { font-size: 8px; white-space: normal; }
  .scale, .legend { font-size: 7.5px; }
  .scale { height: 56px; margin-top: 2px; }
  svg.curve { height: 84px; }
  svg.curve circle { r: 8px; stroke-width: 1.5px; }
  svg.curve text { font-size: 8.5px; }
  svg.curve .line { stroke-width: 2px; }
  table.map tr { break-inside: avoid; }
  .report { break-before: page; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 10px; margin-top: 0; }
  .block.wide { grid-column: 1 / -1; }
  .block { break-inside: auto; }
  .block h2 { font-size: 13px; margin-bottom: 6px; break-after: avoid; }
  .cards { grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 8px; }
  .idea-card { padding: 8px 10px; }
  .idea-card h3 { font-size: 11px; }
  .idea-card p, .actions, .check, table.plain { font-size: 9px; }
  .idea-card p.meta, .idea-card p.quote { font-size: 8px; }
  .actions li { padding: 3px 6px; }
  .check { padding: 5px 8px; }
  table.plain th, table.plain td { padding: 4px 6px; }
  .prose { columns: 2; font-size: 10px; }
  a { color: inherit; text-decoration: none; }
}
"""
