"""A report as plain text, for terminals and other places without markup."""
from __future__ import annotations

import prompts
from bot.report import Report


def report_text(report: Report, lang: str) -> str:
    t = prompts.load(lang, "export")
    levels = prompts.load(lang, "coach")["levels"]
    lines: list[str] = []
    if report.notice:
        lines += [str(t["notice"]).format(notice=report.notice), ""]
    lines += [str(t["summary_heading"]).upper(), *report.summary, ""]
    if report.improvements:
        lines.append(str(t["improvements_heading"]).upper())
        for n, item in enumerate(report.improvements, start=1):
            lines.append(f"{n}. {item.title}")
            lines.append(f"   {item.why}")
            meta = str(t["improvement_meta"]).format(step=item.step, effort=levels.get(item.effort, item.effort), impact=levels.get(item.impact, item.impact))
            lines.append(f"   {meta}")
            lines.append("   " + str(t["because"]).format(trigger=item.trigger))
        lines.append("")
    if report.wow_moments:
        lines.append(str(t["wow_heading"]).upper())
        for item in report.wow_moments:
            lines.append(f"* {item.idea}")
            lines.append(f"  {item.why}")
            lines.append("  " + str(t["wow_meta"]).format(stage=item.stage, cost=item.cost))
        lines.append("")
    if report.mistakes:
        lines.append(str(t["mistakes_heading"]).upper())
        for check in report.mistakes:
            lines.append(f"[{'x' if check.ok else ' '}] {check.number}. {check.title}: {check.note}")
        lines.append("")
    if report.changes:
        lines.append(str(t["changes_heading"]).upper())
        lines += report.changes
        lines.append("")
    if report.customer_check:
        overall = prompts.load(lang, "coach")["customers"]["overall"]
        lines.append(str(t["customer_heading"]).upper())
        you, customers, answers = t["customer_columns"][1:]
        for check in report.customer_check:
            own = f"{check.owner:.1f}" if check.owner is not None else "–"
            lines.append(f"- {check.stage or overall}: {you} {own} · {customers} {check.customers:.1f} ({answers}: {check.responses})")
        lines.append("")
    if report.todos:
        statuses = prompts.load(lang, "messages")["todo"]["statuses"]
        lines.append(str(t["todo_heading"]).upper())
        lines += [f"{todo.id}. [{statuses.get(todo.status, todo.status)}] {todo.title}" for todo in report.todos]
        lines.append("")
    if report.missing:
        lines.append(str(t["missing_heading"]).upper())
        lines += [f"- {item}" for item in report.missing]
        lines.append("")
    lines.append(str(t["review"]).format(date=report.review_date))
    return "\n".join(lines)
