"""The offline coach: deterministic advice from the stored answers, on the method in DOMAIN.md and the
knowledge in prompts/<lang>/ (pains.yaml, remedies.yaml, wow.yaml, stage_kinds.yaml, coach.yaml).

No network, no clock: the caller passes today's date (and the operator's currency)."""
from __future__ import annotations

from datetime import date

from bot.coach.calendar import calendar
from bot.coach.checklist import mistakes, next_review
from bot.coach.context import Context
from bot.coach.improvements import improvements
from bot.coach.summary import summary
from bot.coach.wow import wow_moments
from bot.journey import JourneyView
from bot.report import Report


def build_report(journey: JourneyView, today: date, currency: str = "EUR") -> Report:
    ctx = Context(journey, today, currency)
    cards = improvements(ctx)
    fix_stage, _, fix = next((c.touchpoint for c in cards if c.touchpoint), "").partition(" › ")
    when = next_review(ctx)
    return Report(
        language=ctx.lang,  # type: ignore[arg-type]
        summary=summary(ctx),
        improvements=cards,
        wow_moments=wow_moments(ctx),
        mistakes=mistakes(ctx),
        calendar=calendar(ctx, fix, fix_stage),
        review_date=when.isoformat() if when else "",
        missing=list(journey.missing),
        generator="coach",
    )
