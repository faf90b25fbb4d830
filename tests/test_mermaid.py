"""The export's Mermaid journey diagram, checked with the real Mermaid parser under Node.

devkit/mermaid holds the `mermaid` npm package (with jsdom: Mermaid's sanitiser needs a DOM) and
parse.mjs, which parses diagrams and returns the title, sections and tasks Mermaid read. `.ci/run`
installs it with `npm ci` and sets JOURNEYBOT_REQUIRE_NODE=1; elsewhere the tests are skipped with
the reason when Node or the package is missing.
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bot.coach import build_report
from bot.export import MERMAID_TASK_MAX, MERMAID_TASKS_PER_DIAGRAM, mermaid_task, mermaid_text, render_markdown
from bot.flow import stage_slugs
from bot.journey import JourneyView, build_view
from tests.conftest import TODAY

MERMAID_DIR = Path(__file__).resolve().parent.parent / "devkit" / "mermaid"

HOSTILE = [
    "Journey planner",
    "Section in the newspaper",
    "Title page of the brochure",
    "accTitle: x",
    "accTitle",
    "accDescr: the description",
    "accDescr { multi }",
    "journey",
    "JOURNEY-planner",
    "title\tpage",
    "Section 2",
    "a: b",
    "1: 2: 3",
    "x;y",
    "#1 shop",
    "C# course; 50% off",
    "%% not a comment",
    "%%{init: {'theme': 'dark'}}%%",
    "#quot; entity; #58;",
    "style x fill:#f9f;",
    "---",
    "first line\nsecond line",
    "a\r\nb\u2028c\x85d",
    "\ufeffJourney with a byte-order mark",
    "Journey\u00a0planner with a no-break space",
    "<b>bold</b> & <script>alert(1)</script>",
    "Café ☕ en taart 🎂",
    "👩‍👩‍👧 family day 🇳🇱",
    "Koffie, thee, taart",
    "`code` {braces} [brackets] |pipes|",
    "x" * 300,
    "Title " + "y" * 300,
    " ",
]


def mermaid_parse(texts: list[str]) -> list[dict[str, Any]]:
    """What the real Mermaid parser makes of each diagram: ok, error, title, sections, tasks."""
    node = shutil.which("node")
    missing = None
    if node is None:
        missing = "Node.js is not installed"
    elif not (MERMAID_DIR / "node_modules" / "mermaid").is_dir():
        missing = f"the mermaid npm package is not installed (run `npm ci` in {MERMAID_DIR})"
    if missing:
        if os.environ.get("JOURNEYBOT_REQUIRE_NODE") == "1":
            pytest.fail(f"the real Mermaid parser is required but {missing}")
        pytest.skip(f"the real Mermaid parser is not available: {missing}")
    done = subprocess.run([node, str(MERMAID_DIR / "parse.mjs")], input=json.dumps(texts), capture_output=True,
                          text=True, encoding="utf-8", cwd=MERMAID_DIR, timeout=120)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)["results"]
    assert len(results) == len(texts)
    return results


def journey_view(business: str, persona: str, stages: dict[str, list[str]], lang: str = "en") -> JourneyView:
    """A journey whose touchpoints are all rated (3), as the interview stores it."""
    names = list(stages)
    answers: dict[str, Any] = {
        "business.name": {"v": business, "s": "ok"},
        "persona.name": {"v": persona, "s": "ok"},
        "journey.stages": {"v": names, "s": "ok"},
    }
    for slug, touchpoints in zip(stage_slugs(names), stages.values()):
        answers[f"stage.{slug}.touchpoints"] = {"v": touchpoints, "s": "ok"}
        for i in range(1, len(touchpoints) + 1):
            answers[f"stage.{slug}.tp{i}.feeling"] = {"v": 1 + i % 5, "s": "ok"}
    return build_view(answers, lang, 1)


def diagrams(view: JourneyView) -> list[str]:
    markdown = render_markdown(view, build_report(view, TODAY), today=TODAY.isoformat())
    found = re.findall(r"^```mermaid\n(.*?)\n```$", markdown, re.S | re.M)
    assert found, "no Mermaid block"
    return found


def diagram(view: JourneyView) -> str:
    return diagrams(view)[0]


def expected(view: JourneyView) -> list[dict[str, Any]]:
    """The title, sections and tasks each diagram of `view` must be read as: whole stages, at most
    MERMAID_TASKS_PER_DIAGRAM tasks a diagram, short task labels."""
    actor = " ".join(mermaid_text(view.persona_name).replace(",", " ").split()) or "-"
    groups: list[list[Any]] = [[]]
    for stage in view.stages:
        if groups[-1] and sum(len(s.touchpoints) for s in groups[-1]) + len(stage.touchpoints) > MERMAID_TASKS_PER_DIAGRAM:
            groups.append([])
        groups[-1].append(stage)
    out = []
    for number, group in enumerate(groups, start=1):
        title = view.title if len(groups) == 1 else f"{view.title} ({number}/{len(groups)})"
        tasks = [{"section": mermaid_text(stage.name), "task": mermaid_task(tp.name, MERMAID_TASK_MAX), "score": tp.score, "people": [actor]}
                 for stage in group for tp in stage.touchpoints]
        out.append({"ok": True, "type": "journey", "title": mermaid_text(title), "sections": [mermaid_text(s.name) for s in group], "tasks": tasks})
    return out


def assert_read_as_written(views: list[JourneyView]) -> None:
    texts = [diagrams(view) for view in views]
    results = iter(mermaid_parse([t for group in texts for t in group]))
    for view, group in zip(views, texts):
        got = [next(results) for _ in group]
        assert got == expected(view), (group, got)


def test_hostile_touchpoint_and_stage_names_keep_the_diagram_and_its_title():
    views = [
        journey_view("Bakery Bart", "Anna", {"Awareness": ["Instagram", name, "Flyer"], name: [name]})
        for name in HOSTILE
    ]
    assert_read_as_written(views)
    for view in views:  # the title is the journey's, never a touchpoint's
        assert diagram(view).splitlines()[1] == "    title Bakery Bart – Anna"
    # a name that starts with a keyword keeps its words, in quotes; others are left as they are
    shown = {name: mermaid_task(name) for name in ("Journey planner", "Section in the newspaper", "Title page of the brochure", "Titles", "Sectional sofa")}
    assert shown == {"Journey planner": "‘Journey planner’", "Section in the newspaper": "‘Section in the newspaper’",
                     "Title page of the brochure": "‘Title page of the brochure’", "Titles": "Titles", "Sectional sofa": "Sectional sofa"}
    assert all(len(mermaid_task(name)) <= 60 for name in HOSTILE)


def test_hostile_titles_and_personas_stay_the_title_and_the_actor():
    views = [journey_view(name, persona, {"Section": ["Title", "Journey"], "Title": ["Section"]}, lang)
             for name in HOSTILE if name.strip()
             for persona, lang in (("Title page", "en"), (name, "nl"))]
    assert_read_as_written(views)


def test_random_names_from_hostile_pieces_always_parse():
    pieces = ["journey", "Title", "SECTION", "accTitle", "accDescr", ":", ";", "#", "%%", "%", "{", "}", "\n", "\t", "\ufeff",
              "\u00a0", "\u2028", "-", "---", "&", "<", ">", "`", "'", '"', ",", "☕", "🎂", "é", "page", "5", " ", "\\", "|", "—"]
    rng = random.Random(13)

    def name() -> str:
        return "".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))

    views = [journey_view(name() or "x", name() or "y", {name() + " stage": [name(), name(), name()]}) for _ in range(150)]
    assert_read_as_written(views)


def test_a_big_journey_is_split_into_readable_diagrams_with_short_labels():
    """14 touchpoints in 6 stages: whole stages per diagram, at most 8 tasks each, labels cut to fit
    (the full names stand in the tables above), every part titled with the journey and its number."""
    stages = {f"Stage {n}": [f"A rather long touchpoint name number {n}.{i} in the shop" for i in range(1, 3 + n % 2)] for n in range(1, 7)}
    view = journey_view("Bakery Bart", "Anna", stages)
    parts = diagrams(view)
    assert len(parts) >= 2
    assert_read_as_written([view])
    for number, part in enumerate(parts, start=1):
        tasks = [line for line in part.splitlines() if line.startswith("      ")]
        assert 0 < len(tasks) <= MERMAID_TASKS_PER_DIAGRAM
        assert all(len(line.strip().split(":")[0]) <= MERMAID_TASK_MAX for line in tasks)
        assert part.splitlines()[1] == f"    title Bakery Bart – Anna ({number}/{len(parts)})"
    markdown = render_markdown(view, build_report(view, TODAY), today=TODAY.isoformat())
    assert all(name in markdown for names in stages.values() for name in names)  # in full, in the tables
