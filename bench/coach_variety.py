"""Canned text in the coach's advice: how many sentences two businesses' reports share.

The improvement and WOW items of scripted businesses (devkit/coach_cases.py: a Dutch bakery, a Dutch
B2B installer, an English webshop, an English physiotherapy practice) are split into sentences; quotes,
the businesses', personas', stages' and steps' names and numbers are taken out, and fragments of fewer
than four words are left out (a title's "Lift the low point:" is a label, not a sentence). For every
pair the share is |shared sentences| / |sentences of the smaller report|. Also counted per business: the
remedies and WOW ideas that exist only for its sector.

    .venv/bin/python -m bench.coach_variety

Figures are printed, never asserted here (tests/test_coach_variety.py holds the limits).
"""
from __future__ import annotations

import itertools
import re
from datetime import date

from bot.coach import build_report
from bot.journey import JourneyView
from bot.knowledge import remedies, wow_ideas
from bot.report import Report
from devkit.coach_cases import COACH_BUSINESSES, view_of
from devkit.scripts import Business

TODAY = date(2026, 11, 23)
MIN_WORDS = 4
_QUOTED = re.compile(r"“[^”]*”|‘[^’]*’|\"[^\"]*\"")


def names_of(view: JourneyView) -> list[str]:
    names = [view.business_name, view.persona_name]
    for stage in view.stages:
        names.append(stage.name)
        names += [tp.name for tp in stage.touchpoints]
    return sorted((n for n in names if n), key=len, reverse=True)


def sentences(view: JourneyView, report: Report) -> set[str]:
    texts: list[str] = []
    for card in report.improvements:
        texts += [card.title, card.why] + [a.do for a in card.actions] + [a.why for a in card.actions]
    for moment in report.wow_moments:
        texts += [moment.idea, moment.why]
    names = names_of(view)
    out: set[str] = set()
    for text in texts:
        text = _QUOTED.sub(" ", text)
        for name in names:
            text = text.replace(name, " ")
        text = re.sub(r"\d+([.,]\d+)?(/\d+)?", " ", text)
        for sentence in re.split(r"(?<=[.!?:;])\s+|\n", text):
            words = re.findall(r"\w+", sentence.casefold())
            if len(words) >= MIN_WORDS:
                out.add(" ".join(words))
    return out


def shared_share(a: set[str], b: set[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def sector_specific(business: Business, report: Report) -> list[str]:
    """The remedies and WOW ideas in the report that exist only for the business's sector."""
    lang = business.lang
    specific = {r.id for r in remedies(lang) if r.sectors and business.sector in r.sectors}
    specific |= {i.id for i in wow_ideas(lang) if i.sectors and business.sector in i.sectors}
    refs = [a.ref for card in report.improvements for a in card.actions] + [w.ref for w in report.wow_moments]
    return [ref for ref in refs if ref in specific]


def measure(businesses: tuple[Business, ...] = COACH_BUSINESSES) -> tuple[dict[str, tuple[int, int]], dict[tuple[str, str], float]]:
    reports = {}
    per_business: dict[str, tuple[int, int]] = {}
    for business in businesses:
        view = view_of(business)
        report = build_report(view, TODAY)
        reports[business.key] = (view, report)
        per_business[business.key] = (len(sentences(view, report)), len(sector_specific(business, report)))
    pairs = {
        (a, b): shared_share(sentences(*reports[a]), sentences(*reports[b]))
        for a, b in itertools.combinations([b.key for b in businesses], 2)
    }
    return per_business, pairs


def section() -> list[str]:
    """The lines `make bench` adds to bench/results/latest.md."""
    per_business, pairs = measure()
    lines = ["## Coach: canned text (bench/coach_variety.py)", "", "| business | sentences | sector-specific remedies and WOW ideas |", "|---|---|---|"]
    lines += [f"| {key} | {count} | {specific} |" for key, (count, specific) in per_business.items()]
    lines += ["", "| pair | shared sentences (limit 15% for businesses of different sectors) |", "|---|---|"]
    lines += [f"| {a} – {b} | {share:.0%} |" for (a, b), share in pairs.items()]
    return lines


def main() -> None:
    print("\n".join(section()))


if __name__ == "__main__":
    main()
