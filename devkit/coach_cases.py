"""Businesses as finished journeys, for the coach's tests and benchmarks: a `Business` of devkit/scripts.py
turned straight into stored answers (no interview), and one more business, a webshop, in English."""
from __future__ import annotations

from typing import Any

from bot.flow import stage_key, stage_slugs, touchpoint_key
from bot.journey import JourneyView, build_view
from devkit.llm_support import ok
from devkit.scripts import BAKERY_BUSINESS_NL, INSTALLER_BUSINESS_NL, PHYSIO_BUSINESS_EN, Business, Stage, Touchpoint


def answers_of(business: Business) -> dict[str, Any]:
    b = business
    answers: dict[str, Any] = {
        "meta.language": ok(b.lang),
        "business.name": ok(b.name),
        "business.sector": ok(b.sector),
        "journey.goal": ok(b.goal),
        "journey.process": ok(b.process),
        "concept.promise": ok(b.promise),
        "concept.sacrifice": ok(b.sacrifice) if b.sacrifice else {"v": None, "s": "skipped"},
        **{f"persona.{k}": ok(v) for k, v in b.persona.items()},
        "persona.channels": ok(list(b.persona_channels)),
        "persona.source": ok(list(b.persona_source)),
        "journey.stages": ok([s.name for s in b.stages]),
        "journey.team": ok(b.team),
        "journey.review": ok(b.review),
    }
    for slug, stage in zip(stage_slugs([s.name for s in b.stages]), b.stages):
        answers[stage_key(slug, "stage.touchpoints")] = ok([tp.name for tp in stage.touchpoints])
        answers[stage_key(slug, "stage.evidence")] = ok(list(stage.evidence))
        answers[stage_key(slug, "stage.delights")] = ok(stage.delight) if stage.delight else {"v": None, "s": "skipped"}
        for n, tp in enumerate(stage.touchpoints, start=1):
            answers[touchpoint_key(slug, n, "touchpoint.channel")] = ok(tp.channel)
            answers[touchpoint_key(slug, n, "touchpoint.feeling")] = ok(tp.feeling)
            answers[touchpoint_key(slug, n, "touchpoint.team")] = ok(tp.team)
            answers[touchpoint_key(slug, n, "touchpoint.pain")] = ok(tp.pain) if tp.pain else {"v": None, "s": "skipped"}
    return answers


def view_of(business: Business, **changes: Any) -> JourneyView:
    answers = answers_of(business)
    for key, value in changes.items():
        answers[key.replace("__", ".")] = ok(value)
    return build_view(answers, business.lang, journey_id=1)


WEBSHOP_BUSINESS_EN = Business(
    key="webshop-en",
    lang="en",
    name="Pedal & Pine",
    sector="webshop",
    goal="repeat",
    process="A first online order of bike parts, from searching to fitting them",
    promise="The right part for your exact bike, shipped the same day, with a fitting video for every part",
    sacrifice="We do not sell complete bikes and there is no physical shop",
    persona={
        "name": "Weekend Wheeler Will",
        "role": "Accountant in his thirties who maintains his own road bike on Saturday mornings",
        "goals": "Ride every weekend without breakdowns, and fix things himself instead of waiting a week for a bike shop",
        "pains": "Ordered parts that did not fit his bike before, and hates paying return postage for a mistake that was not his",
        "behaviour": "Watches repair videos on YouTube in the evening and orders on his phone straight after",
        "trust": "A clear compatibility check for his model and reviews from riders with the same bike",
        "trigger": "Something creaks or slips on a Saturday ride and he wants it fixed before next weekend",
    },
    persona_channels=("google", "youtube", "reviews", "email"),
    persona_source=("data", "interviews"),
    stages=(
        Stage("Searching", (
            Touchpoint("Google search for the part number", "website", 3, "marketing"),
            Touchpoint("Repair video on YouTube", "social", 4, "marketing"),
        ), ("data",)),
        Stage("Choosing", (
            Touchpoint("Product page with compatibility list", "website", 2, "tech", "The compatibility list is a PDF and half the models are missing"),
            Touchpoint("Reading product reviews", "review_site", 3, "outside", "Only 9 reviews and most are about the old version"),
        ), ("data", "interviews")),
        Stage("Ordering", (
            Touchpoint("Checkout", "website", 2, "tech", "Checkout forces you to create an account and iDEAL fails on mobile"),
            Touchpoint("Order confirmation e-mail", "email", 3, "service"),
        ), ("data",)),
        Stage("Delivery", (
            Touchpoint("Parcel delivered by the courier", "courier", 2, "outside", "The courier leaves parcels with neighbours and the tracking link stops updating"),
            Touchpoint("Unboxing and fitting the part", "in_person", 4, "delivery"),
        ), ("interviews",), delight="The fitting video link on the packing slip"),
        Stage("Coming back", (
            Touchpoint("Returning a part that does not fit", "website", 1, "service", "Customers pay the return postage themselves and wait two weeks for the refund"),
            Touchpoint("Newsletter", "email", 3, "marketing"),
        ), ("gut",)),
    ),
    team="per_stage",
    evidence=("data", "interviews"),
    delight="At delivery: the fitting video link on the packing slip",
    review="half_year",
)

COACH_BUSINESSES = (BAKERY_BUSINESS_NL, INSTALLER_BUSINESS_NL, WEBSHOP_BUSINESS_EN, PHYSIO_BUSINESS_EN)
# three sectors the coach has sector knowledge for, in both languages: the canned-text check runs on these
VARIETY_BUSINESSES = (BAKERY_BUSINESS_NL, INSTALLER_BUSINESS_NL, WEBSHOP_BUSINESS_EN)
