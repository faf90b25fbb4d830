"""`journeybot export` in every format, from a scripted Dutch journey: the markdown, the page, the
map picture, the PDF to print and the sheets, each a real file of its kind with every stage in it."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from app import Journeys, OwnerKey
from handlers.cli import main
from store.repository import Store
from devkit.drive import type_lines
from devkit.scripts import BAKERY_NL

STAGES = ["Bewustwording", "Overweging", "Bestellen", "Ophalen en proeven", "Terugkomen", "Aanbevelen"]


@pytest.fixture
def journey(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    url = f"sqlite:///{tmp_path / 'j.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("JOURNEYBOT_LLM", "off")
    monkeypatch.setenv("JOURNEYBOT_USER", "ann")
    journeys = Journeys(Store.open(url))
    type_lines(journeys, OwnerKey("terminal", "local", "ann"), BAKERY_NL)
    journeys.close()
    return tmp_path


def squash(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("fmt", ["md", "html", "png", "pdf", "csv", "xlsx"])
def test_every_format_is_a_real_file_with_every_stage(journey: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = journey / f"map.{fmt}"
    assert main(["export", "--format", fmt, "-o", str(out)]) == 0
    data = out.read_bytes()
    if fmt == "md":
        text = data.decode("utf-8")
    elif fmt == "html":
        text = data.decode("utf-8")
        assert text.startswith("<!DOCTYPE html>") and 'lang="nl"' in text and "<script" not in text
    elif fmt == "png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        return
    elif fmt == "pdf":
        reader = PdfReader(io.BytesIO(data))
        assert len(reader.pages) == 1
        text = reader.pages[0].extract_text()
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
        text = "\n".join(";".join(r) for r in rows)
        assert rows[0][0] == "Fase"
    else:
        sheet = load_workbook(io.BytesIO(data)).active
        text = "\n".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)
    assert all(squash(stage) in squash(text) for stage in STAGES), fmt


def test_the_format_follows_the_file_name_and_pictures_never_go_to_a_terminal(journey: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "-o", str(journey / "sheet.xlsx")]) == 0
    assert (journey / "sheet.xlsx").read_bytes()[:2] == b"PK"  # a zip: the xlsx container
    capsys.readouterr()
    assert main(["export"]) == 0
    assert capsys.readouterr().out.startswith("# Klantreis")  # markdown to stdout, as before
