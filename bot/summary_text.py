"""A report as plain text, for terminals and other places without markup."""
from __future__ import annotations

from bot.report import Report
from bot.report_sections import Item, Section, report_sections


def report_text(report: Report, lang: str | None = None) -> str:
    """Every section of bot.report_sections: a heading underlined with a rule, then its items."""
    lines: list[str] = []
    for section in report_sections(report, lang):
        if not section.items:
            continue
        if section.key == "notice":
            lines += [f"{section.heading}: " + " ".join(line for item in section.items for line in item.body), ""]
            continue
        lines += [section.heading, "─" * len(section.heading)]
        if section.intro:
            lines.append(section.intro)
        for n, item in enumerate(section.items):
            if section.layout == "paragraphs" and n:
                lines.append("")
            lines += _item(section, item)
        lines.append("")
    return "\n".join(lines).rstrip("\n")


def _item(section: Section, item: Item) -> list[str]:
    if section.layout == "paragraphs":
        return list(item.body)
    if section.layout == "cards":
        first = f"{item.number}. {item.title}" if item.number is not None else f"* {item.title}"
        return [first, *(f"   {line}" for line in (*item.body, item.meta, item.quote) if line)]
    prefix = " ".join(p for p in (item.mark, f"{item.number}." if item.number is not None else "") if p) or "-"
    head = " – ".join(p for p in (item.title, " · ".join(item.body)) if p)
    return [f"{prefix} {head}", *([f"  {item.meta}"] if item.meta else [])]
