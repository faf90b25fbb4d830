"""The whole interview through `journeybot chat --jsonl` as a subprocess, and resume after SIGKILL."""
from __future__ import annotations

from pathlib import Path

import random
import re

import pytest
from sqlalchemy import create_engine, func, select

from store.models import AnswerLog, Journey
from tests.jsonl_chat import JsonlChat
from devkit.scripts import B2B_EN, BAKERY_NL

DUTCH_STAGES = ["Bewustwording", "Overweging", "Bestellen", "Ophalen en proeven", "Terugkomen", "Aanbevelen"]


def run_script(chat: JsonlChat, script: list[str]) -> list[dict]:
    turns: list[dict] = []
    for line in script:
        turn = chat.send(line)
        assert turn, f"no reply to {line!r}"
        assert turn[-1]["type"] != "error", turn
        assert not any(t["type"] == "error" for t in turn), (line, turn)
        turns += turn
    return turns


def test_complete_interview_ends_in_export(sqlite_url, tmp_path):
    chat = JsonlChat(sqlite_url, tmp_path)
    assert chat.first[-1]["step"] == "meta.language"
    turns = run_script(chat, BAKERY_NL)
    types = [t["type"] for t in turns]
    # the end of the interview: the report, its markdown file and the chart, each written next to the other
    assert "done" in types and types[-3:] == ["summary", "export", "image"], (types[-5:], turns[-1])
    summary = turns[-3]
    assert turns[-1]["path"].endswith(".png") and (tmp_path / turns[-1]["path"]).read_bytes()[:4] == b"\x89PNG"
    assert summary["report"]["language"] == "nl"
    assert summary["report"]["improvements"], "the coach found nothing to improve"
    for turn in turns:
        assert {"type", "step", "kind", "text", "choices", "progress"} <= set(turn)
    export = chat.send_raw("/export", expect=3)  # the map picture, its PDF and the markdown, written as files
    assert [t["type"] for t in export[:3]] == ["image", "export", "export"]
    assert [Path(t["path"]).suffix for t in export[:3]] == [".png", ".pdf", ".md"]
    assert chat.close() == 0

    markdown = (tmp_path / "journey-feestende-fenna.md").read_text(encoding="utf-8")
    assert "# Klantreis: Bakkerij De Korenschoof – Feestende Fenna" in markdown
    assert "## Buyer persona: Feestende Fenna" in markdown
    assert "Moeder van twee, organiseert alle verjaardagen" in markdown
    for index, stage in enumerate(DUTCH_STAGES, start=1):
        assert f"### Fase {index}: {stage}" in markdown
    block = re.search(r"```mermaid\n(.*?)\n```", markdown, re.S)
    assert block, "no mermaid block"
    lines = block.group(1).splitlines()
    assert lines[0] == "journey"
    sections = [line.strip()[len("section ") :] for line in lines if line.strip().startswith("section ")]
    assert sections == DUTCH_STAGES
    tasks = [line.strip() for line in lines if re.match(r"^\s{6}\S", line)]
    assert len(tasks) == 8
    for task in tasks:
        name, score, actor = task.rsplit(":", 2)
        assert 1 <= int(score) <= 5 and actor.strip() == "Feestende Fenna"
    assert "Instagram-post van een…: 4: Feestende Fenna" in markdown  # cut to fit the diagram; in full in the table
    assert "| Taart ophalen | Winkel of kantoor | 2 | Rij van twintig minuten op zaterdag | Uitvoering en levering |" in markdown


def test_commands_through_the_subprocess(sqlite_url, tmp_path):
    chat = JsonlChat(sqlite_url, tmp_path)
    chat.send("en")
    turn = chat.send("Northwind IT Advisory")
    assert turn[-1]["step"] == "business.sector"
    back = chat.send("/back")
    assert back[-1]["step"] == "business.name" and "Northwind IT Advisory" in back[-1]["text"]
    chat.send("Northwind IT")
    skip = chat.send("/skip")
    assert skip[0]["type"] == "error" and skip[-1]["step"] == "business.sector"
    status = chat.send("/status")
    assert status[0]["type"] == "info" and "1 of" in status[0]["text"]
    summary = chat.send("/summary")
    assert summary[0]["type"] == "summary" and summary[0]["report"]["missing"]
    assert summary[-1]["step"] == "business.sector"
    nl = chat.send("/language nl")
    assert nl[0]["text"].startswith("Vanaf nu") and "Wat voor bedrijf" in nl[-1]["text"]
    assert chat.close() == 0


def _answers_in_db(db_url: str) -> list[tuple[str, str]]:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(AnswerLog.step, AnswerLog.raw).order_by(AnswerLog.id)).all()
    engine.dispose()
    return [(r.step, r.raw) for r in rows]


def _journey_answers(db_url: str) -> dict:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        answers = conn.execute(select(Journey.answers)).scalar_one()
    engine.dispose()
    return dict(answers)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_resume_after_sigkill(sqlite_url, tmp_path, seed):
    rng = random.Random(seed)
    script = B2B_EN
    cut = rng.randrange(3, len(script) - 2)
    chat = JsonlChat(sqlite_url, tmp_path)
    acknowledged_step = None
    for line in script[:cut]:
        turn = chat.send(line)
        acknowledged_step = turn[-1]["step"]
    chat.kill()  # SIGKILL after the last answer was acknowledged with the next question

    chat = JsonlChat(sqlite_url, tmp_path)
    assert chat.first[-1]["type"] == "question"
    assert chat.first[-1]["step"] == acknowledged_step, "did not resume at the exact step"
    run_script(chat, script[cut:])
    assert chat.close() == 0
    rows = _answers_in_db(sqlite_url)
    answers = _journey_answers(sqlite_url)
    # answers the engine filled for the owner (inferred channels, a stage's ratings per touchpoint,
    # the journey's evidence per stage) carry "by" and are logged as "(by)": each once
    filled = [(step, raw) for step, raw in rows if (answers.get(step) or {}).get("by")]
    assert filled and all(raw == f"({answers[step]['by']})" for step, raw in filled)
    assert len({step for step, _ in filled}) == len(filled), "a filled answer was logged twice"
    logged = [raw for step, raw in rows if not (answers.get(step) or {}).get("by")]
    # the language choice is a setting, not an answer: every other line is logged once, in order
    assert logged == script[1:], "an acknowledged answer was lost, doubled or reordered"


def test_reminder_and_survey_file_in_the_terminal(sqlite_url, tmp_path):
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import update

    from store.living import Reminder

    chat = JsonlChat(sqlite_url, tmp_path)
    run_script(chat, B2B_EN)
    assert chat.close() == 0
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(update(Reminder).values(due_at=datetime.now(timezone.utc) - timedelta(days=1)))
    engine.dispose()
    answers = tmp_path / "answers.csv"
    answers.write_text("Discovery,Proposal,Onboarding,Overall\n4,1,2,3\n", encoding="utf-8")
    chat = JsonlChat(sqlite_url, tmp_path, first_timeout=3)
    assert chat.first[0]["type"] == "info" and "Time to review" in chat.first[0]["text"]
    assert "is complete" in chat.first[-1]["text"] and "/review" in chat.first[-1]["text"]
    saved = chat.send_raw(f"/results {answers}")
    assert saved[0]["type"] == "info" and "Saved 1 customer answer." in saved[0]["text"]
    assert chat.close() == 0
    again = JsonlChat(sqlite_url, tmp_path, first_timeout=3)
    assert "Time to review" not in again.first[0]["text"], "the reminder is sent once"
    again.close()
