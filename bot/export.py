"""The markdown export: persona card, a table per stage, a Mermaid journey diagram and the report.

The report part draws on bot.report_sections, like every other renderer.

Owner text is escaped so that no answer can break a table, the Mermaid block or the page.
"""
from __future__ import annotations

import re
from typing import Any

import prompts
from bot.evidence import LIGHTS, field_level, stage_evidence
from bot.journey import JourneyView
from bot.report import Report
from bot.report_sections import Section, long_date, report_sections
from bot.report_sections import texts as report_texts

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|~])")
_LINE_START = re.compile(r"^([#+\-=]|\d+[.)])")
_MERMAID_MAX = 60
# A journey diagram gives each task a fixed width: labels longer than this are cut by Mermaid, and
# more tasks than this shrink to unreadable. The full names stand in the tables above the diagram.
MERMAID_TASK_MAX = 24
MERMAID_TASKS_PER_DIAGRAM = 8
# words that start a statement in a Mermaid journey (matched case-insensitively, as its lexer does)
_MERMAID_KEYWORD = re.compile(r"(?:journey|title|section|acctitle|accdescr)(?![A-Za-z0-9_])", re.I)
_NUMBER = re.compile(r"\d{1,9}(?:[.,]\d{1,3})?")  # a score or a count: safe in a table as it is
PERSONA_FIELDS = (
    "persona.role",
    "persona.goals",
    "persona.pains",
    "persona.behaviour",
    "persona.channels",
    "persona.trust",
    "persona.trigger",
    "persona.source",
)
BUSINESS_FIELDS = ("business.name", "business.sector", "journey.goal", "journey.process", "concept.promise", "concept.sacrifice")


def inline(text: Any) -> str:
    """One line of markdown-safe text: no control characters, no HTML, no markup, no line breaks."""
    value = _CONTROL.sub(" ", str(text))
    value = " ".join(value.split())
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _MD_SPECIAL.sub(r"\\\1", value)
    # what would turn the start of a line into a heading, a list or a rule
    return _LINE_START.sub(lambda m: "\\" + m.group(1) if not m.group(1)[0].isdigit() else m.group(1)[:-1] + "\\" + m.group(1)[-1], value)


def cell(text: Any) -> str:
    """A table cell: inline text (pipes are escaped there), never empty."""
    value = inline(text)
    return value if value else "–"


def mermaid_text(text: Any) -> str:
    """Text for a Mermaid journey title, section or actor: the characters its parser chokes on replaced.

    Mermaid's journey lexer ends a name at `:`, `#` (a comment), `;` and a line break, reads `%%` as
    a comment, `#word;` as an entity and `{`/`}` in accessibility descriptions; JavaScript also takes
    a byte-order mark for white space."""
    value = _CONTROL.sub(" ", str(text)).replace("\ufeff", " ")
    value = " ".join(value.split())
    for bad, good in ((":", " -"), (";", ","), ("#", "nr "), ("`", "'"), ("<", "‹"), (">", "›"), ("%", " pct"), ("{", "("), ("}", ")")):
        value = value.replace(bad, good)
    value = " ".join(value.split())
    return _shorten(value, _MERMAID_MAX) or "-"


def mermaid_task(text: Any, limit: int = _MERMAID_MAX) -> str:
    """A task (touchpoint) name for a Mermaid journey: `mermaid_text`, and quoted when it starts with a
    word the lexer takes for a keyword at the start of a line ("Journey planner", "Section in the
    newspaper", "Title page of the brochure", "accTitle"): unquoted, the first breaks the diagram, the
    second opens a section and the third replaces the diagram's title."""
    value = _shorten(mermaid_text(text), limit)
    if _MERMAID_KEYWORD.match(value):
        value = f"‘{_shorten(value, limit - 2)}’"
    return value


def _shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def filename_for(journey: JourneyView) -> str:
    from bot.flow import slugify

    return f"journey-{slugify(journey.persona_name) or 'persona'}.md"


class _Page:
    """The lines of one export, with the texts of prompts/<lang>/export.yaml."""

    def __init__(self, journey: JourneyView) -> None:
        self.journey = journey
        self.t: dict[str, Any] = prompts.load(journey.lang, "export")
        self.lines: list[str] = []

    def say(self, key: str, **values: Any) -> str:
        return inline(str(self.t[key]).format(**values))

    def heading(self, level: int, text: str) -> None:
        self.lines += ["", f"{'#' * level} {text}", ""]

    def table(self, columns: str | list[str], rows: list[list[str]]) -> None:
        """A table under `columns` (texts, or the key of a list of them); every cell must already be escaped."""
        if isinstance(columns, str):
            columns = self.t[columns]
        self.lines.append("| " + " | ".join(inline(c) for c in columns) + " |")
        self.lines.append("|" + "---|" * len(columns))
        self.lines += ["| " + " | ".join(row) + " |" for row in rows]


def render_markdown(journey: JourneyView, report: Report, *, today: str) -> str:
    page = _Page(journey)
    page.lines += [f"# {page.say('title', title=journey.title)}", "", f"_{page.say('generated', date=long_date(today, journey.lang), generator=report.generator)}_"]
    sections = report_sections(report, journey.lang)
    for section in sections:
        if section.key == "notice":
            text = " ".join(inline(line) for item in section.items for line in item.body)
            page.lines += ["", f"> **{inline(section.heading)}:** {text}"]
    _persona_and_business(page)
    _journey_map(page)
    for section in sections:
        if section.key != "notice":
            _section(page, section)
    page.lines.append("")
    return re.sub(r"\n{3,}", "\n\n", "\n".join(page.lines))


def _persona_and_business(page: _Page) -> None:
    journey = page.journey
    page.heading(2, page.say("persona_heading", persona=journey.persona_name or page.t["none"]))
    page.lines += [f"_{page.say('legend')}_", ""]
    page.lines += _field_table(journey, PERSONA_FIELDS, page.t)
    page.heading(2, page.say("business_heading"))
    page.lines += _field_table(journey, BUSINESS_FIELDS, page.t)


def _journey_map(page: _Page) -> None:
    journey = page.journey
    page.heading(2, page.say("map_heading"))
    for stage in journey.stages:
        page.heading(3, page.say("stage_heading", index=stage.index, stage=stage.name))
        evidence = stage_evidence(journey, stage.slug)
        if evidence is not None and evidence.status != "missing":
            page.lines += [f"_{page.say('evidence')}: {LIGHTS[field_level(evidence)]} {inline(_field_text(journey, evidence))}_", ""]
        if not stage.touchpoints:
            page.lines.append(page.say("no_touchpoints"))
        else:
            page.table(
                "columns",
                [
                    [
                        cell(tp.name),
                        cell(_field_text(journey, tp.channel)),
                        cell(str(tp.score) if tp.score is not None else _status_text(journey, tp.feeling)),
                        cell(_field_text(journey, tp.pain) if tp.pain.status != "skipped" else ""),  # skipped: no pain
                        cell(_field_text(journey, tp.team)),
                    ]
                    for tp in stage.touchpoints
                ],
            )
        if stage.delights:
            page.lines += ["", f"**{page.say('delights')}:** {inline(stage.delights.text)}"]
    page.heading(2, page.say("curve_heading"))
    page.lines += _mermaid(journey, page.t)


def _section(page: _Page, section: Section) -> None:
    """One section of the report (bot.report_sections): tables where it has columns, lists otherwise."""
    page.heading(2, inline(section.heading))
    if section.intro:
        page.lines += [f"_{inline(section.intro)}_", ""]
    if not section.items:
        page.lines.append(inline(report_texts(page.journey.lang)["none"]))
        return
    if section.layout == "paragraphs":
        for item in section.items:
            page.lines += [inline(line) for line in item.body] + [""]
        return
    rows = [item for item in section.items if item.cells]
    if rows:
        page.table(list(section.columns), [[value if _NUMBER.fullmatch(value) else cell(value) for value in item.cells] for item in rows])
    listed = [item for item in section.items if not item.cells]
    if rows and listed:
        page.lines.append("")
    for item in listed:
        if section.layout == "cards":
            first, indent = (f"{item.number}. ", "   ") if item.number is not None else ("- ", "  ")
            page.lines.append(f"{first}{_bold(item.title)}  ")
            page.lines += [f"{indent}{inline(line)}  " for line in item.body]
            page.lines += [f"{indent}_{inline(line)}_  " for line in (item.meta, item.quote) if line]
            page.lines[-1] = page.lines[-1].rstrip()
            continue
        box = "" if item.done is None else f"[{'x' if item.done else ' '}] "
        number = f"{item.number}\\. " if item.number is not None else ""
        title = _bold(item.title)
        body = " · ".join(inline(line) for line in item.body)
        page.lines.append(f"- {box}{number}" + ": ".join(p for p in (title, body) if p))
        if item.meta:
            page.lines.append(f"  _{inline(item.meta)}_")


def _bold(text: str) -> str:
    value = inline(text)
    return f"**{value}**" if value else ""


def _status_text(journey: JourneyView, field: Any) -> str:
    if field.status == "unknown":
        return prompts.say(journey.lang, "messages", "unknown_answer")
    if field.status == "skipped":
        return prompts.say(journey.lang, "messages", "skipped_answer")
    return ""


def _field_text(journey: JourneyView, field: Any) -> str:
    return field.text if field.known else _status_text(journey, field)


def _field_table(journey: JourneyView, keys: tuple[str, ...], t: dict[str, Any]) -> list[str]:
    rows = [f"| {inline(t['field'])} | {inline(t['answer'])} |", "|---|---|"]
    for key in keys:
        field = journey.fields.get(key)
        if field is None:
            continue
        text = _field_text(journey, field)
        if key == "persona.source" and field.known:
            text = f"{LIGHTS[field_level(field)]} {text}"
        rows.append(f"| {cell(field.label)} | {cell(text)} |")
    return rows


def _mermaid(journey: JourneyView, t: dict[str, Any]) -> list[str]:
    # a comma separates actors: one persona is one actor
    actor = " ".join(mermaid_text(journey.persona_name or prompts.say(journey.lang, "messages", "fallback.persona")).replace(",", " ").split()) or "-"
    skipped = any(tp.score is None for stage in journey.stages for tp in stage.touchpoints)
    scored = [(stage, [tp for tp in stage.touchpoints if tp.score is not None]) for stage in journey.stages]
    scored = [(stage, tps) for stage, tps in scored if tps]
    if not scored:
        return [inline(t["no_curve"])]
    # Whole stages per diagram, at most MERMAID_TASKS_PER_DIAGRAM tasks each (a bigger stage alone)
    groups: list[list[tuple[Any, list[Any]]]] = [[]]
    for stage, tps in scored:
        if groups[-1] and sum(len(x) for _, x in groups[-1]) + len(tps) > MERMAID_TASKS_PER_DIAGRAM:
            groups.append([])
        groups[-1].append((stage, tps))
    lines: list[str] = []
    for number, group in enumerate(groups, start=1):
        title = journey.title if len(groups) == 1 else f"{journey.title} ({number}/{len(groups)})"
        lines += ["", "```mermaid"] if lines else ["```mermaid"]
        lines += ["journey", f"    title {mermaid_text(title)}"]
        for stage, tps in group:
            lines.append(f"    section {mermaid_text(stage.name)}")
            for tp in tps:
                lines.append(f"      {mermaid_task(tp.name, MERMAID_TASK_MAX)}: {max(1, min(5, int(tp.score or 1)))}: {actor}")
        lines.append("```")
    if skipped:
        lines += ["", f"_{inline(t['curve_note'])}_"]
    return lines
