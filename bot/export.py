"""The markdown export: persona card, a table per stage, a Mermaid journey diagram and the advice.

Owner text is escaped so that no answer can break a table, the Mermaid block or the page.
"""
from __future__ import annotations

import re
from typing import Any

import prompts
from bot.evidence import LIGHTS, field_level
from bot.journey import JourneyView
from bot.report import Report

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|~])")
_LINE_START = re.compile(r"^([#+\-=]|\d+[.)])")
_MERMAID_MAX = 60
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
    """Text for a Mermaid journey section, task or actor: the characters its parser chokes on replaced."""
    value = _CONTROL.sub(" ", str(text))
    value = " ".join(value.split())
    for bad, good in ((":", " -"), (";", ","), ("#", "nr "), ("`", "'"), ("<", "‹"), (">", "›"), ("%", " pct"), ("{", "("), ("}", ")")):
        value = value.replace(bad, good)
    value = " ".join(value.split())
    if len(value) > _MERMAID_MAX:
        value = value[: _MERMAID_MAX - 1].rstrip() + "…"
    return value or "-"


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

    def table(self, columns_key: str, rows: list[list[str]]) -> None:
        """A table; every cell must already be escaped (`cell`, numbers)."""
        columns = self.t[columns_key]
        self.lines.append("| " + " | ".join(inline(c) for c in columns) + " |")
        self.lines.append("|" + "---|" * len(columns))
        self.lines += ["| " + " | ".join(row) + " |" for row in rows]


def render_markdown(journey: JourneyView, report: Report, *, today: str) -> str:
    page = _Page(journey)
    page.lines += [f"# {page.say('title', title=journey.title)}", "", f"_{page.say('generated', date=today, generator=report.generator)}_"]
    if report.notice:
        page.lines += ["", f"> {page.say('notice', notice=report.notice)}"]
    _persona_and_business(page)
    _journey_map(page)
    _advice(page, report)
    _living(page, report)
    if report.missing:
        page.heading(2, page.say("missing_heading"))
        page.lines += [f"- {inline(item)}" for item in report.missing]
    page.heading(2, page.say("review_heading"))
    page.lines += [page.say("review", date=report.review_date), ""]
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
        evidence = journey.fields.get(f"stage.{stage.slug}.evidence")
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


def _advice(page: _Page, report: Report) -> None:
    levels = prompts.load(page.journey.lang, "coach")["levels"]
    page.heading(2, page.say("summary_heading"))
    for paragraph in report.summary:
        page.lines += [inline(paragraph), ""]
    page.heading(2, page.say("improvements_heading"))
    for n, item in enumerate(report.improvements, start=1):
        meta = page.say("improvement_meta", step=item.step, effort=levels.get(item.effort, item.effort), impact=levels.get(item.impact, item.impact))
        page.lines += [f"{n}. **{inline(item.title)}**  ", f"   {inline(item.why)}  ", f"   _{meta}_  ", f"   _{page.say('because', trigger=item.trigger)}_"]
    if not report.improvements:
        page.lines.append(page.say("none"))
    page.heading(2, page.say("wow_heading"))
    for wow in report.wow_moments:
        meta = page.say("wow_meta", stage=wow.stage, cost=wow.cost)
        page.lines += [f"- **{inline(wow.idea)}**  ", f"  {inline(wow.why)}  ", f"  _{meta}_  ", f"  _{page.say('because', trigger=wow.trigger)}_"]
    if not report.wow_moments:
        page.lines.append(page.say("none"))
    page.heading(2, page.say("mistakes_heading"))
    for check in report.mistakes:
        page.lines.append(f"- [{'x' if check.ok else ' '}] {check.number}\\. **{inline(check.title)}**: {inline(check.note)}")
    page.heading(2, page.say("calendar_heading"))
    if report.calendar:
        page.table("calendar_columns", [[cell(row.stage), cell(row.channel), cell(row.idea)] for row in report.calendar])
    else:
        page.lines.append(page.say("none"))


def _living(page: _Page, report: Report) -> None:
    """What changed, what customers say, what the team scored, and the to-do list."""
    if report.changes:
        page.heading(2, page.say("changes_heading"))
        page.lines += [f"- {inline(line)}" for line in report.changes]
    if report.customer_check:
        overall = prompts.load(page.journey.lang, "coach")["customers"]["overall"]
        page.heading(2, page.say("customer_heading"))
        page.table(
            "customer_columns",
            [
                [cell(c.stage or overall), f"{c.owner:.1f}" if c.owner is not None else "–", f"{c.customers:.1f}", str(c.responses)]
                for c in report.customer_check
            ],
        )
    if report.team or report.team_added:
        page.heading(2, page.say("team_heading"))
        if report.team:
            page.table(
                "team_columns",
                [
                    [
                        cell(row.stage),
                        cell(row.touchpoint),
                        str(row.owner) if row.owner is not None else "–",
                        ", ".join(str(score) for score in row.scores),
                        page.say("team_disagree") if row.disagree else "–",
                    ]
                    for row in report.team
                ],
            )
        if report.team_added:
            page.lines += ["", f"**{page.say('team_added')}:** " + "; ".join(inline(a) for a in report.team_added)]
    if report.todos:
        statuses = prompts.load(page.journey.lang, "messages")["todo"]["statuses"]
        page.heading(2, page.say("todo_heading"))
        page.table("todo_columns", [[str(todo.id), cell(statuses.get(todo.status, todo.status)), cell(todo.title)] for todo in report.todos])


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
    actor = mermaid_text(journey.persona_name or prompts.say(journey.lang, "messages", "fallback.persona")).replace(",", " ")
    lines = ["```mermaid", "journey", f"    title {mermaid_text(journey.title)}"]
    tasks = 0
    skipped = False
    for stage in journey.stages:
        scored = [tp for tp in stage.touchpoints if tp.score is not None]
        skipped = skipped or len(scored) < len(stage.touchpoints)
        if not scored:
            continue
        lines.append(f"    section {mermaid_text(stage.name)}")
        for tp in scored:
            lines.append(f"      {mermaid_text(tp.name)}: {max(1, min(5, int(tp.score or 1)))}: {actor}")
            tasks += 1
    lines.append("```")
    if tasks == 0:
        return [inline(t["no_curve"])]
    if skipped:
        lines += ["", f"_{inline(t['curve_note'])}_"]
    return lines
