"""The journey map as a sheet: CSV and Excel, one row per touchpoint.

Columns: stage, touchpoint, channel, feeling, the customers' score for the stage, pain, what already
delights in the stage, team, evidence, improvements and WOW ideas, headed by the labels of
prompts/<lang>/map.yaml. The stage's own values (customers' score, delights, evidence) stand on
every row of the stage, so a filter or a sort keeps them; improvements and WOW ideas about the
stage as a whole stand once, on its first row. A stage without touchpoints still gets a row.

A cell that starts with =, +, -, @ (or a tab or carriage return) gets an apostrophe in front, so no
spreadsheet takes an answer for a formula. The CSV is UTF-8 with a byte-order mark, separated the
way Excel reads it in the owner's language: commas in English, semicolons in Dutch (where the comma
is the decimal sign).
"""
from __future__ import annotations

import csv
import io
import re
from typing import Any

from bot.journey_map import JourneyMap, MapStage, MapTouchpoint

COLUMNS = ("stage", "touchpoint", "channel", "feeling", "customers", "pains", "delights", "team", "evidence", "improvements", "wows")
DELIMITERS = {"nl": ";", "en": ","}
DECIMALS = {"nl": ",", "en": "."}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ITEM_SEPARATOR = "\n"  # several improvements or WOW ideas in one cell, one a line
WIDTHS = {"stage": 20, "touchpoint": 30, "channel": 18, "feeling": 11, "customers": 12, "pains": 44, "delights": 36,
          "team": 18, "evidence": 18, "improvements": 44, "wows": 52}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # no spreadsheet takes these; \t, \n and \r stay


def guard(value: Any) -> Any:
    """A cell's value, safe from formula injection: text starting with = + - @ gets a leading apostrophe."""
    if not isinstance(value, str):
        return value
    text = _CONTROL.sub(" ", value)
    return "'" + text if text.startswith(FORMULA_START) else text


def header(m: JourneyMap) -> list[str]:
    return [m.label(key) for key in COLUMNS]


def rows(m: JourneyMap) -> list[list[Any]]:
    """The map's rows as values: text, int (feeling) or float (customers' score); None when unknown."""
    out: list[list[Any]] = []
    for stage in m.stages:
        touchpoints: tuple[MapTouchpoint | None, ...] = stage.touchpoints or (None,)
        for n, tp in enumerate(touchpoints):
            out.append(_row(m, stage, tp, first=n == 0))
    return out


def _row(m: JourneyMap, stage: MapStage, tp: MapTouchpoint | None, *, first: bool) -> list[Any]:
    improvements = list(tp.improvements if tp else ()) + list(stage.improvements if first else ())
    wows = list(tp.wows if tp else ()) + list(stage.wows if first else ())
    evidence = stage.evidence if stage.evidence in ("green", "amber", "red") else "unknown"
    return [
        stage.name,
        tp.name if tp else m.label("no_touchpoints"),
        tp.channel if tp else "",
        tp.feeling if tp else None,
        stage.customers,
        tp.pain if tp else "",
        stage.delights,
        tp.team if tp else "",
        m.label(f"evidence_{evidence}"),
        ITEM_SEPARATOR.join(improvements),
        ITEM_SEPARATOR.join(wows),
    ]


def _text(value: Any, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", DECIMALS.get(lang, "."))
    return str(value)


def render_csv(m: JourneyMap) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=DELIMITERS.get(m.lang, ","), quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([guard(c) for c in header(m)])
    for row in rows(m):
        writer.writerow([guard(_text(value, m.lang)) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def render_xlsx(m: JourneyMap) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = _sheet_title(m.label("map_title"))
    wrap = Alignment(wrap_text=True, vertical="top")
    sheet.append([guard(c) for c in header(m)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8EDF7")
        cell.alignment = wrap
        cell.data_type = "s"
    for values in rows(m):
        sheet.append([guard(v) if v is not None else None for v in values])
        for cell in sheet[sheet.max_row]:
            cell.alignment = wrap
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text
    customers = COLUMNS.index("customers") + 1
    for (cell,) in sheet.iter_rows(min_row=2, min_col=customers, max_col=customers):
        cell.number_format = "0.0"
    for index, key in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS[key]
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(text: str) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", " ", text).strip()[:31] or "Map"
