"""Advice written for the business, not canned: scripted businesses of different sectors and languages
share few sentences once names and quotes are taken out, and each gets advice only its sector gets."""
from __future__ import annotations

from bench.coach_variety import measure, sector_specific, sentences
from bot.coach import build_report
from devkit.coach_cases import COACH_BUSINESSES, VARIETY_BUSINESSES, view_of

MAX_SHARED = 0.15


def test_reports_of_different_businesses_share_at_most_fifteen_percent_of_sentences() -> None:
    per_business, pairs = measure(VARIETY_BUSINESSES)
    assert all(count >= 20 for count, _ in per_business.values()), per_business
    for pair, share in pairs.items():
        assert share <= MAX_SHARED, (pair, f"{share:.0%}")


def test_each_sector_business_gets_a_remedy_or_idea_of_its_own_sector() -> None:
    for business in COACH_BUSINESSES:
        if business.sector not in ("bakery", "salon", "webshop", "trades", "b2b"):
            continue
        report = build_report(view_of(business), measure.__globals__["TODAY"])
        remedies_only = [a.ref for card in report.improvements for a in card.actions]
        assert sector_specific(business, report), business.key
        assert set(sector_specific(business, report)) & set(remedies_only), (business.key, "no sector remedy, only WOW ideas")


def test_sentences_leave_out_names_quotes_and_labels() -> None:
    business = COACH_BUSINESSES[0]
    view = view_of(business)
    report = build_report(view, measure.__globals__["TODAY"])
    found = sentences(view, report)
    assert found
    assert not any(business.persona["name"].casefold() in s for s in found)
    assert all(len(s.split()) >= 4 for s in found)
