"""The report as an ordered list of sections: one model that every renderer draws from.

Telegram, Slack, the terminal and the markdown export all show the same sections, in the same
order, with the same headings and labels (prompts/<lang>/report.yaml). A section holds plain
data only: no HTML, no mrkdwn, no markdown. Each renderer escapes and decorates it its own way.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import prompts
from bot.report import Report, TeamScore

SECTION_KEYS = (
    "notice",
    "summary",
    "improvements",
    "wow",
    "mistakes",
    "calendar",
    "changes",
    "customers",
    "todos",
    "team",
    "missing",
    "review",
)
ALWAYS = frozenset({"summary", "improvements", "wow", "mistakes", "calendar", "review"})  # shown even when empty
PEOPLE = "{people}"  # the slot in Item.template
LOCALES = {"nl": "nl_NL", "en": "en_GB"}

Layout = Literal["paragraphs", "cards", "lines"]


@dataclass(frozen=True)
class Item:
    """One entry of a section; every field is plain text (or empty)."""

    title: str = ""  # the emphasised part: an improvement's title, "stage · touchpoint", a to-do
    body: tuple[str, ...] = ()  # plain lines: the why, a note, a paragraph of the summary
    meta: str = ""  # one secondary line: step, effort and impact; a disagreement
    quote: str = ""  # the owner's answer that led to it, already in its sentence ("Because you said: …")
    mark: str = ""  # a sign in front: ✅ / ⚠️ for a check, ⚠️ for a disagreement
    number: int | None = None  # its number in an ordered list (improvements, mistakes, to-dos)
    done: bool | None = None  # a check's outcome, for renderers with check boxes of their own
    cells: tuple[str, ...] = ()  # the item as a table row, matching Section.columns
    people: tuple[tuple[str, str], ...] = ()  # (who, score) pairs for renderers that can name people
    template: str = ""  # body[0] with a "{people}" slot, for renderers that name `people` their own way


@dataclass(frozen=True)
class Section:
    key: str  # one of SECTION_KEYS: stable, for renderers and tests
    heading: str
    items: tuple[Item, ...]
    layout: Layout = "lines"  # paragraphs (prose), cards (several lines each), lines (one line each)
    intro: str = ""  # one line under the heading
    columns: tuple[str, ...] = ()  # column headings for renderers that draw tables from Item.cells


def long_date(iso: str, lang: str) -> str:
    """An ISO date as the owner writes it ("1 januari 2027", "1 January 2027"); anything else unchanged."""
    from datetime import date

    from babel.dates import format_date

    try:
        return format_date(date.fromisoformat(iso), "long", locale=LOCALES.get(lang, "en_GB"))
    except ValueError:
        return iso


def texts(lang: str) -> dict[str, Any]:
    """prompts/<lang>/report.yaml: the headings and labels of every report renderer."""
    return prompts.load(prompts.normalise_language(lang), "report")


def report_sections(report: Report, lang: str | None = None) -> list[Section]:
    """The sections of `report` in display order, with headings in `lang` (default: the report's).

    The core of the advice (summary, improvements, WOW moments, mistakes, calendar) and the review
    date are always there, possibly without items; the others only when they have something to show.
    """
    lang = prompts.normalise_language(lang or report.language)
    t = texts(lang)
    levels = t["levels"]
    statuses = prompts.load(lang, "messages")["todo"]["statuses"]

    def say(key: str, **values: Any) -> str:
        return str(t[key]).format(**values)

    def because(trigger: str) -> str:
        return say("because", trigger=trigger) if trigger.strip() else ""

    def number(value: float | None) -> str:
        return f"{value:.1f}".replace(".", str(t["decimal"])) if value is not None else str(t["none"])

    items: dict[str, list[Item]] = {key: [] for key in SECTION_KEYS}
    if report.notice.strip():
        items["notice"].append(Item(body=(report.notice,)))
    items["summary"] = [Item(body=(p,)) for p in report.summary if p.strip()]
    items["improvements"] = [
        Item(
            title=i.title,
            body=((i.why,) if i.why.strip() else ()) + tuple(say("action", do=a.do, why=a.why, cost=a.cost).replace("  ", " ") for a in i.actions),
            meta=say("improvement_meta", step=i.step, effort=levels.get(i.effort, i.effort), impact=levels.get(i.impact, i.impact)),
            quote=because(i.trigger),
            number=n,
        )
        for n, i in enumerate(report.improvements, start=1)
    ]
    items["wow"] = [
        Item(title=w.idea, body=(w.why,) if w.why.strip() else (), meta=say("wow_meta", stage=w.touchpoint or w.stage, cost=w.cost), quote=because(w.trigger))
        for w in report.wow_moments
    ]
    items["mistakes"] = [
        Item(title=m.title, body=(m.note,) if m.note.strip() else (), mark=str(t["ok" if m.ok else "not_ok"]), number=m.number, done=m.ok)
        for m in sorted(report.mistakes, key=lambda m: m.number)
    ]
    items["calendar"] = [
        Item(title=" · ".join(p for p in (r.when, r.stage, r.channel) if p), body=(r.idea,), cells=(r.when, r.stage, r.channel, r.idea))
        for r in report.calendar
    ]
    items["changes"] = [Item(body=(line,)) for line in report.changes if line.strip()]
    for c in report.customer_check:
        stage = c.stage or str(t["overall"])
        line = say("customer_line", owner=number(c.owner), customers=number(c.customers), responses=c.responses)
        items["customers"].append(Item(title=stage, body=(line,), cells=(stage, number(c.owner), number(c.customers), str(c.responses))))
    for todo in report.todos:
        status = str(statuses.get(todo.status, todo.status))
        items["todos"].append(Item(title=todo.title, body=(say("todo_status", status=status),), number=todo.id, cells=(str(todo.id), status, todo.title)))
    items["team"] = [_team_item(t, row) for row in report.team]
    items["team"] += [Item(title=added, body=(say("team_added"),)) for added in report.team_added if added.strip()]
    items["missing"] = [Item(body=(m,)) for m in report.missing if m.strip()]
    if report.review_date:
        items["review"].append(Item(body=(say("review", date=long_date(report.review_date, lang)),)))

    intro = ""
    if report.team or report.team_added:
        intro = str(t["team_intro"])
        if report.team and not any(row.disagree for row in report.team):
            intro += " " + str(t["team_agree"])
    columns = {
        "calendar": t["calendar_columns"],
        "customers": t["customer_columns"],
        "todos": t["todo_columns"],
        "team": t["team_columns"],
    }
    layouts: dict[str, Layout] = {"notice": "paragraphs", "summary": "paragraphs", "review": "paragraphs", "improvements": "cards", "wow": "cards"}
    return [
        Section(
            key=key,
            heading=str(t["headings"][key]),
            items=tuple(items[key]),
            layout=layouts.get(key, "lines"),
            intro=intro if key == "team" else "",
            columns=tuple(str(c) for c in columns.get(key, ())),
        )
        for key in SECTION_KEYS
        if items[key] or key in ALWAYS
    ]


def _team_item(t: dict[str, Any], row: TeamScore) -> Item:
    owner = str(row.owner) if row.owner is not None else str(t["none"])
    scores = ", ".join(str(score) for score in row.scores)
    people = tuple(zip(row.teammates, (str(s) for s in row.scores))) if len(row.teammates) == len(row.scores) else ()
    values = [*row.scores, *([row.owner] if row.owner is not None else [])]
    meta = str(t["team_disagree"]).format(low=min(values), high=max(values)) if row.disagree and values else ""
    return Item(
        title=f"{row.stage} · {row.touchpoint}",
        body=(str(t["team_line"]).format(owner=owner, scores=scores),),
        meta=meta,
        mark=str(t["not_ok"]) if row.disagree else "",
        cells=(row.stage, row.touchpoint, owner, scores, str(t["team_differ"]) if row.disagree else str(t["none"])),
        people=people,
        template=str(t["team_line"]).format(owner=owner, scores=PEOPLE) if people else "",
    )
