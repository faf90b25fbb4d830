"""The piece-by-piece checks of a model's reply, without a server: the language test, the quote test
and what a reply made of the coach's own texts keeps."""
from __future__ import annotations

import json

import pytest

from bot.coach import build_report
from bot.llm_reply import Unusable, grounded, language_of, owner_corpus, read_reply
from devkit.coach_cases import COACH_BUSINESSES, view_of
from devkit.llm_support import TODAY, bakery_view, good_llm_report, wide_view


@pytest.mark.parametrize("business", COACH_BUSINESSES, ids=lambda b: f"{b.lang}-{b.sector}")
def test_the_coachs_own_texts_read_as_their_language(business) -> None:
    """No false alarm: every card, idea and paragraph the coach writes is taken for its own language (or unsure)."""
    report = build_report(view_of(business), TODAY)
    other = {"nl": "en", "en": "nl"}[business.lang]
    texts = [*report.summary, *(f"{i.title} {i.why}" for i in report.improvements), *(f"{w.idea} {w.why}" for w in report.wow_moments)]
    assert all(language_of(t) != other for t in texts), [t for t in texts if language_of(t) == other]
    assert language_of(" ".join(texts)) == business.lang


@pytest.mark.parametrize("business", COACH_BUSINESSES, ids=lambda b: f"{b.lang}-{b.sector}")
def test_a_reply_that_repeats_the_coach_keeps_every_piece(business) -> None:
    """A model that hands the coach's own cards back, quoting the coach's triggers, loses nothing."""
    view = view_of(business)
    coach = build_report(view, TODAY)
    reply = {
        "summary": coach.summary,
        "improvements": [
            {"n": n, "step": i.step, "title": i.title, "why": i.why, "trigger": i.trigger, "remedies": [{"n": 1, "do": a.do} for a in i.actions[:1]]}
            for n, i in enumerate(coach.improvements, start=1)
        ],
        "wow_moments": [{"n": n, "idea": w.idea, "why": w.why, "trigger": w.trigger} for n, w in enumerate(coach.wow_moments, start=1)],
    }
    reading = read_reply(json.dumps(reply, ensure_ascii=False), view, coach)
    assert reading.dropped == {}
    assert len(reading.cards) == len(coach.improvements) and len(reading.ideas) == len(coach.wow_moments)


def test_quotes_are_the_owners_words_or_nothing() -> None:
    view = bakery_view()
    corpus = owner_corpus(view, build_report(view, TODAY))
    assert grounded("“waits 20 minutes at the counter”", corpus)
    assert grounded("Waits 20 minutes at the counter.", corpus)
    assert grounded("the wedding date is set", corpus)
    assert grounded("Sanne", corpus)
    assert not grounded("waits 45 minutes at the counter", corpus)
    assert not grounded("we bake gluten-free cakes", corpus)
    assert not grounded("", corpus) and not grounded("“ ”", corpus)


def test_mixed_and_short_texts_are_not_judged() -> None:
    assert language_of("Instagram") is None
    assert language_of("Sanne, Instagram, Google") is None
    assert language_of("Zet je prijzen op de website, zodat Sanne weet waar ze aan toe is.") == "nl"
    assert language_of("Put your prices on the website so that Sanne knows where she stands.") == "en"


def test_a_reply_with_nothing_usable_or_in_the_other_language_is_unusable() -> None:
    view = bakery_view("nl")
    coach = build_report(view, TODAY)
    with pytest.raises(Unusable) as wrong:
        read_reply(json.dumps(good_llm_report("en")), view, coach)
    assert wrong.value.reason == "language" and "Dutch" in wrong.value.errors
    with pytest.raises(Unusable) as empty:
        read_reply(json.dumps({"summary": [], "improvements": [{"n": 99}], "wow_moments": "none"}), view, coach)
    assert empty.value.reason == "invalid"
    with pytest.raises(Unusable):
        read_reply("[1, 2, 3]", view, coach)


def test_the_widest_journey_reads_too() -> None:
    view = wide_view("nl")
    coach = build_report(view, TODAY)
    card = coach.improvements[0]
    pain = next(tp.pain.text for _, tp in view.touchpoints() if tp.pain.known)
    reply = {"summary": ["Sanne ziet de bakkerij eerst op Instagram en wil dan weten wat een taart kost."],
             "improvements": [{"n": 1, "step": card.step, "title": "Maak het makkelijker", "why": "Dit is het laagste punt van de reis en dat onthoudt ze.", "trigger": pain, "remedies": []}],
             "wow_moments": []}
    reading = read_reply(json.dumps(reply, ensure_ascii=False), view, coach)
    assert reading.summary and 0 in reading.cards
