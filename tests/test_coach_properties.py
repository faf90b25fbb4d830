"""Properties of the offline coach over many generated journeys: one card per step, waiting advice only
where a waiting cue was named, no physical gesture at an online step, nothing offered for a review,
at least three WOW moments on different steps, and a review date that follows the chosen rhythm."""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.coach import build_report
from bot.flow import stage_key, stage_slugs, touchpoint_key
from bot.journey import build_view
from bot.knowledge import PHYSICAL_GROUPS, SECTORS, channel_group, remedies, wow_ideas
from bot.pains import classify
from bot.report import Report
from bot.report_sections import long_date
from bot.review_rhythm import add_months
from devkit.llm_support import ok

CHANNELS = ("website", "shop", "phone", "email", "social", "review_site", "comparison_site", "ad", "whatsapp", "courier", "invoice", "in_person")
TEAMS = ("owner", "marketing", "sales", "service", "delivery", "tech", "design", "finance", "outside")
STAGE_NAMES = {
    "nl": ["Bewustwording", "Oriëntatie", "Offerte", "Bestellen", "Ophalen", "Installatie", "Nazorg", "Terugkomen", "Aanbevelen", "Fase zonder naam"],
    "en": ["Awareness", "Searching", "Booking", "Checkout", "Delivery", "Treatment", "Follow-up", "Renewal", "Recommending", "Another stage"],
}
TOUCHPOINTS = {
    "nl": ["Instagram-post", "Website", "Vraag via WhatsApp", "Offerte per mail", "Bestellen aan de toonbank", "Taart ophalen", "Factuur", "Monteur ter plaatse", "Nieuwsbrief", "Google-review schrijven", "Parkeren", "Betalen met pin"],
    "en": ["Instagram post", "Website", "Question via WhatsApp", "Proposal by e-mail", "Ordering at the counter", "Picking up", "Invoice", "Technician on site", "Newsletter", "Writing a Google review", "Parking", "Paying by card"],
}
RHYTHMS = ("monthly", "quarterly", "half_year", "never")
TODAY = date(2026, 1, 31)
INCENTIVE = re.compile(
    r"(discount|gift|voucher|free|prize|raffle|korting|cadeau|bon|gratis|prijs|verloting)[^.]{0,40}\b(for|voor|in ruil)\b[^.]{0,20}\breviews?\b"
    r"|\breviews?\b[^.]{0,30}\b(in exchange|in ruil|earns?|levert .* op|krijg(t|en)? je)\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=None)
def corpus_pains(lang: str) -> tuple[str, ...]:
    data = yaml.safe_load(Path(__file__).parents[1].joinpath("bench", "data", "pains.yaml").read_text(encoding="utf-8"))
    entries = data[lang] if isinstance(data, dict) and lang in data else [e for e in data if e.get("lang") == lang]
    return tuple(str(e["text"]) for e in entries)


@st.composite
def journeys(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    lang = draw(st.sampled_from(("nl", "en")))
    names = draw(st.lists(st.sampled_from(STAGE_NAMES[lang]), min_size=2, max_size=6, unique=True))
    answers: dict[str, Any] = {
        "business.name": ok("Zaak" if lang == "nl" else "Shop"),
        "business.sector": ok(draw(st.sampled_from(SECTORS))),
        "persona.name": ok(draw(st.sampled_from(["Drukke Daphne", "jonge ouders", "Careful Carl", "young parents"]))),
        "persona.trigger": ok("The birthday is next week") if draw(st.booleans()) else {"v": None, "s": "skipped"},
        "persona.goals": ok("A party without stress"),
        "persona.trust": ok("Photos of real work"),
        "persona.channels": ok(draw(st.lists(st.sampled_from(["google", "instagram", "reviews", "email", "whatsapp"]), unique=True, max_size=3))),
        "journey.stages": ok(names),
        "journey.review": ok(draw(st.sampled_from(RHYTHMS))),
    }
    pains = corpus_pains(lang)
    for slug, _ in zip(stage_slugs(names), names):
        tps = draw(st.lists(st.sampled_from(TOUCHPOINTS[lang]), min_size=1, max_size=4, unique=True))
        answers[stage_key(slug, "stage.touchpoints")] = ok(tps)
        for n in range(1, len(tps) + 1):
            channel = draw(st.sampled_from((*CHANNELS, None)))
            if channel:
                answers[touchpoint_key(slug, n, "touchpoint.channel")] = ok(channel)
            score = draw(st.sampled_from((1, 2, 3, 4, 5, None)))
            answers[touchpoint_key(slug, n, "touchpoint.feeling")] = ok(score) if score else {"v": None, "s": "unknown"}
            answers[touchpoint_key(slug, n, "touchpoint.team")] = ok(draw(st.sampled_from(TEAMS)))
            if draw(st.booleans()):
                answers[touchpoint_key(slug, n, "touchpoint.pain")] = ok(draw(st.sampled_from(pains)))
    return lang, answers


def texts_of(report: Report) -> list[str]:
    out = []
    for i in report.improvements:
        out += [i.title, i.why, *(a.do for a in i.actions), *(a.why for a in i.actions)]
    for w in report.wow_moments:
        out += [w.idea, w.why]
    out += [m.note for m in report.mistakes] + [r.idea for r in report.calendar]
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journeys())
def test_the_coach_keeps_its_rules(case: tuple[str, dict[str, Any]]) -> None:
    lang, answers = case
    view = build_view(answers, lang, journey_id=1)
    report = build_report(view, TODAY)
    spots = {f"{stage.name} › {tp.name}": (stage, tp) for stage, tp in view.touchpoints()}

    # one card per step
    steps = [i.touchpoint for i in report.improvements if i.touchpoint]
    assert len(steps) == len(set(steps)), steps

    # every remedy answers a problem named at its step; waiting advice only where the words carry a waiting cue
    library = {r.id: r for r in remedies(lang)}
    for card in report.improvements:
        if not card.touchpoint:
            continue
        stage, tp = spots[card.touchpoint]
        named = set(classify(tp.pain.text, lang) if tp.pain else ()) | set(classify(tp.name, lang)) | {"partner"}
        for action in card.actions:
            if action.ref:
                remedy_classes = set(library[action.ref].classes)
                assert remedy_classes & named, (action.ref, tp.pain.text, tp.name)
                if remedy_classes & named == {"waiting"}:
                    assert "waiting" in named
        if card.title.startswith(("Take the waiting", "Haal het wachten")):
            assert "waiting" in named, (card.title, tp.pain.text, tp.name)

    # WOW moments: on different steps, none physical at a step that is not face to face or in the parcel
    ideas = {i.id: i for i in wow_ideas(lang)}
    assert len({w.touchpoint for w in report.wow_moments}) == len(report.wow_moments)
    for moment in report.wow_moments:
        idea = ideas[moment.ref]
        stage, tp = spots[moment.touchpoint]
        group = channel_group(str(tp.channel.value)) if tp.channel.known else None
        if idea.physical:
            assert group in PHYSICAL_GROUPS, (moment.idea, tp.name, group)
    if len(spots) >= 3:
        assert len(report.wow_moments) >= 3, [s for s in spots]

    # nothing offered in exchange for a review
    for text in texts_of(report):
        assert not INCENTIVE.search(text), text

    # the review date follows the rhythm
    rhythm = answers["journey.review"]["v"]
    months = {"monthly": 1, "quarterly": 3, "half_year": 6}.get(rhythm)
    seven = next(m for m in report.mistakes if m.number == 7)
    if months is None:
        assert report.review_date == "" and not seven.ok
    else:
        assert report.review_date == add_months(TODAY, months).isoformat() and seven.ok
        assert long_date(report.review_date, lang) in seven.note
