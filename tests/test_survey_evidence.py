"""Customers' survey answers are evidence: the stages they scored turn green on the map, in the
export and in the checklist, and the coach opens with the gap between the owner's scores and theirs."""
from __future__ import annotations

from datetime import date

from bot.coach import build_report
from bot.evidence import field_level, stage_evidence
from bot.journey_map import build_map
from bot.journey import build_view
from devkit.coach_cases import WEBSHOP_BUSINESS_EN, answers_of, view_of

TODAY = date(2026, 12, 1)


def test_customers_answers_turn_a_stage_green_and_lead_the_advice() -> None:
    plain = view_of(WEBSHOP_BUSINESS_EN)
    stage = max(plain.stages, key=lambda s: sum(tp.score or 0 for tp in s.touchpoints) / max(len(s.touchpoints), 1))
    assert field_level(stage_evidence(plain, stage.slug)) != "green"
    survey = tuple({"scores": {stage.slug: 1}, "comment": None} for _ in range(4))
    view = build_view(answers_of(WEBSHOP_BUSINESS_EN), WEBSHOP_BUSINESS_EN.lang, journey_id=1, survey=survey)

    evidence = stage_evidence(view, stage.slug)
    assert field_level(evidence) == "green" and "4 answers" in (evidence.text if evidence else "")
    journey_map = build_map(view, build_report(view, TODAY))
    assert next(s for s in journey_map.stages if s.name == stage.name).evidence == "green"
    assert next(s for s in journey_map.stages if s.name == stage.name).customers == 1.0

    report = build_report(view, TODAY)
    first = report.improvements[0]
    assert stage.name in first.title and "1/5" in first.why and "4" in first.why  # the customers' verdict first
    assert first.title in next(s for s in journey_map.stages if s.name == stage.name).improvements  # and on the map, on its stage
