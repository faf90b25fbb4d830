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


def render_markdown(journey: JourneyView, report: Report, *, today: str) -> str:
    t: dict[str, Any] = prompts.load(journey.lang, "export")
    out: list[str] = []

    def say(key: str, **values: Any) -> str:
        return str(t[key]).format(**values)

    out.append(f"# {inline(say('title', title=journey.title))}")
    out.append("")
    out.append(f"_{inline(say('generated', date=today, generator=report.generator))}_")
    if report.notice:
        out += ["", f"> {inline(say('notice', notice=report.notice))}"]

    out += ["", f"## {inline(say('persona_heading', persona=journey.persona_name or t['none']))}", ""]
    out += [f"_{inline(t['legend'])}_", ""]
    out += _field_table(journey, PERSONA_FIELDS, t)
    out += ["", f"## {inline(t['business_heading'])}", ""]
    out += _field_table(journey, BUSINESS_FIELDS, t)

    out += ["", f"## {inline(t['map_heading'])}"]
    for stage in journey.stages:
        out += ["", f"### {inline(say('stage_heading', index=stage.index, stage=stage.name))}", ""]
        evidence = journey.fields.get(f"stage.{stage.slug}.evidence")
        if evidence is not None and evidence.status != "missing":
            light = LIGHTS[field_level(evidence)]
            out += [f"_{inline(t['evidence'])}: {light} {inline(_field_text(journey, evidence))}_", ""]
        if not stage.touchpoints:
            out.append(inline(t["no_touchpoints"]))
        else:
            out.append("| " + " | ".join(inline(c) for c in t["columns"]) + " |")
            out.append("|" + "---|" * len(t["columns"]))
            for tp in stage.touchpoints:
                feeling = str(tp.score) if tp.score is not None else _status_text(journey, tp.feeling)
                out.append(
                    "| "
                    + " | ".join(
                        [cell(tp.name), cell(_field_text(journey, tp.channel)), cell(feeling), cell(_field_text(journey, tp.pain)), cell(_field_text(journey, tp.team))]
                    )
                    + " |"
                )
        if stage.delights:
            out += ["", f"**{inline(t['delights'])}:** {inline(stage.delights.text)}"]

    out += ["", f"## {inline(t['curve_heading'])}", ""]
    out += _mermaid(journey, t)

    out += ["", f"## {inline(t['summary_heading'])}", ""]
    for paragraph in report.summary:
        out += [inline(paragraph), ""]

    out += [f"## {inline(t['improvements_heading'])}", ""]
    for n, item in enumerate(report.improvements, start=1):
        levels = prompts.load(journey.lang, "coach")["levels"]
        out.append(f"{n}. **{inline(item.title)}**  ")
        out.append(f"   {inline(item.why)}  ")
        out.append(f"   _{inline(say('improvement_meta', step=item.step, effort=levels.get(item.effort, item.effort), impact=levels.get(item.impact, item.impact)))}_  ")
        out.append(f"   _{inline(say('because', trigger=item.trigger))}_")
    if not report.improvements:
        out.append(inline(t["none"]))

    out += ["", f"## {inline(t['wow_heading'])}", ""]
    for item in report.wow_moments:
        out.append(f"- **{inline(item.idea)}**  ")
        out.append(f"  {inline(item.why)}  ")
        out.append(f"  _{inline(say('wow_meta', stage=item.stage, cost=item.cost))}_  ")
        out.append(f"  _{inline(say('because', trigger=item.trigger))}_")
    if not report.wow_moments:
        out.append(inline(t["none"]))

    out += ["", f"## {inline(t['mistakes_heading'])}", ""]
    for check in report.mistakes:
        out.append(f"- [{'x' if check.ok else ' '}] {check.number}\\. **{inline(check.title)}**: {inline(check.note)}")

    out += ["", f"## {inline(t['calendar_heading'])}", ""]
    if report.calendar:
        out.append("| " + " | ".join(inline(c) for c in t["calendar_columns"]) + " |")
        out.append("|---|---|---|")
        for row in report.calendar:
            out.append(f"| {cell(row.stage)} | {cell(row.channel)} | {cell(row.idea)} |")
    else:
        out.append(inline(t["none"]))

    if report.changes:
        out += ["", f"## {inline(t['changes_heading'])}", ""]
        out += [f"- {inline(line)}" for line in report.changes]

    if report.customer_check:
        overall = prompts.load(journey.lang, "coach")["customers"]["overall"]
        out += ["", f"## {inline(t['customer_heading'])}", ""]
        out.append("| " + " | ".join(inline(c) for c in t["customer_columns"]) + " |")
        out.append("|---|---|---|---|")
        for check in report.customer_check:
            own = f"{check.owner:.1f}" if check.owner is not None else "–"
            out.append(f"| {cell(check.stage or overall)} | {own} | {check.customers:.1f} | {check.responses} |")

    if report.team or report.team_added:
        out += ["", f"## {inline(t['team_heading'])}", ""]
        if report.team:
            out.append("| " + " | ".join(inline(c) for c in t["team_columns"]) + " |")
            out.append("|---|---|---|---|---|")
            for row in report.team:
                owner = str(row.owner) if row.owner is not None else "–"
                flag = inline(t["team_disagree"]) if row.disagree else ""
                scores = ", ".join(str(s) for s in row.scores)
                out.append(f"| {cell(row.stage)} | {cell(row.touchpoint)} | {owner} | {scores} | {flag or '–'} |")
        if report.team_added:
            out += ["", f"**{inline(t['team_added'])}:** " + "; ".join(inline(a) for a in report.team_added)]

    if report.todos:
        statuses = prompts.load(journey.lang, "messages")["todo"]["statuses"]
        out += ["", f"## {inline(t['todo_heading'])}", ""]
        out.append("| " + " | ".join(inline(c) for c in t["todo_columns"]) + " |")
        out.append("|---|---|---|")
        for todo in report.todos:
            out.append(f"| {todo.id} | {cell(statuses.get(todo.status, todo.status))} | {cell(todo.title)} |")

    if report.missing:
        out += ["", f"## {inline(t['missing_heading'])}", ""]
        out += [f"- {inline(item)}" for item in report.missing]

    out += ["", f"## {inline(t['review_heading'])}", "", inline(say("review", date=report.review_date)), ""]
    return "\n".join(out)


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
