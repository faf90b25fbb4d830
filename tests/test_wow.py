"""The WOW-moment library (prompts/<lang>/wow.yaml): both languages load through the typed loader and say
the same thing in the same structure, every step of a real journey has generic ideas that fit it, every
named sector has its own ideas, and the texts keep the rules a consultant would sign: nothing physical
at an online step, nothing in exchange for a review, no money in the words, placeholders that read for
any touchpoint and any persona, and no sentence used twice."""
from __future__ import annotations

import re
import string
from collections import Counter

import pytest

from bot.knowledge import CHANNEL_GROUPS, PHYSICAL_GROUPS, SECTORS, STAGE_KINDS, WowIdea, wow_ideas

LANGS = ("nl", "en")
STRUCTURED = ("id", "stages", "channels", "sectors", "physical", "builds_on", "effort", "cost", "per")
TEXTS = ("idea", "why", "time")

# Every (stage kind, channel group) a real journey has: a step online, in the shop, on the phone or by
# mail can sit in any stage; a courier hands over what was bought (purchase, delivery) and the parcels of
# a returning customer (loyalty).
MUST_COVER = sorted(
    {(kind, group) for kind in STAGE_KINDS for group in ("online", "in_person", "phone", "mail")}
    | {("purchase", "delivery"), ("delivery", "delivery"), ("loyalty", "delivery")}
)
# Enough generic choice that three touchpoints of the same kind still get three different ideas.
MIN_GENERIC_PER_PAIR = 2
NAMED_SECTORS = [s for s in SECTORS if s != "other"]
MIN_PER_SECTOR = 6

ALLOWED = {"idea": {"touchpoint", "persona", "business"}, "why": {"persona"}, "time": set()}
QUOTED_TOUCHPOINT = {"en": "“{touchpoint}”", "nl": "‘{touchpoint}’"}

# Review incentives: phrases that always mean a reward for a review or a share, and, per idea, a review
# word together with a reward word (a thank-you without anything attached uses neither kind of reward word).
INCENTIVE_PHRASES = {
    "en": ["in exchange for", "in return for", "discount if", "for a review", "for reviewing", "for leaving a",
           "if you review", "for sharing", "for a share", "raffle", "prize draw", "giveaway", "win a"],
    "nl": ["in ruil voor", "als tegenprestatie", "korting als", "korting bij", "voor een review", "voor een recensie",
           "als je een review", "voor het delen", "winactie", "verloting", "loting", "maak kans", "maken kans"],
}
REVIEW_WORDS = {
    "en": r"\b(reviews?|reviewers?|reviewing|ratings?|stars?|recommend\w*|share|sharing)\b",
    "nl": r"\b(reviews?|recensies?|beoordeling\w*|sterren|aanbe\w*|aanraden|delen)\b",
}
REWARD_WORDS = {
    "en": r"\b(gifts?|presents?|discounts?|vouchers?|coupons?|free|prizes?|rewards?|treats?|samples?|extras?|store credit|cashback|% off)\b",
    "nl": r"\b(cadeau\w*|kado\w*|korting\w*|bon|bonnen|waardebon\w*|tegoed|gratis|prijs|prijzen|beloning\w*|traktatie\w*|proefje\w*|extraatje\w*|cashback)\b",
}
MONEY = re.compile(
    r"[€$£¥₹]|\b(eur|euros?|usd|gbp|dollars?|pounds?|pence|cents?|bucks|quid|guilders?|gulden|kr|sek|chf)\b|\d+\s*,-|\d+[.,]\d{2}\b",
    re.IGNORECASE,
)
PERSONA_PRONOUNS = ["hem of haar", "hij of zij", "zijn of haar", "him or her", "his or her", "he or she", "him/her", "hem/haar"]


def ideas(lang: str) -> tuple[WowIdea, ...]:
    return wow_ideas(lang)


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?:;])\s+", text)
    return [re.sub(r"[^\w ]", "", p.lower()).strip() for p in parts if len(p.split()) >= 4]


def generic_fits(kind: str, group: str, lang: str = "en") -> list[str]:
    return [i.id for i in ideas(lang) if not i.sectors and (not i.stages or kind in i.stages) and group in i.channels]


@pytest.mark.parametrize("lang", LANGS)
def test_the_file_loads_through_the_typed_loader(lang: str) -> None:
    loaded = ideas(lang)
    assert len(loaded) >= 60
    ids = [i.id for i in loaded]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]


def test_dutch_and_english_have_the_same_ideas_in_the_same_order() -> None:
    nl, en = ideas("nl"), ideas("en")
    assert [i.id for i in nl] == [i.id for i in en]
    for a, b in zip(nl, en):
        for field in STRUCTURED:
            assert getattr(a, field) == getattr(b, field), f"{a.id}.{field}: {getattr(a, field)!r} in nl, {getattr(b, field)!r} in en"
        for field in TEXTS:
            assert placeholders(getattr(a, field)) == placeholders(getattr(b, field)), f"{a.id}.{field}: other placeholders"
            assert getattr(a, field) != getattr(b, field), f"{a.id}.{field}: not written in Dutch"


@pytest.mark.parametrize(("kind", "group"), MUST_COVER)
def test_every_step_of_a_real_journey_has_generic_ideas(kind: str, group: str) -> None:
    fitting = generic_fits(kind, group)
    assert len(fitting) >= MIN_GENERIC_PER_PAIR, f"({kind}, {group}) has only {fitting}"


def test_every_stage_kind_and_channel_group_is_used() -> None:
    for i in ideas("en"):
        assert i.stages, f"{i.id}: name the stage kinds it fits"
    assert {k for i in ideas("en") for k in i.stages} == set(STAGE_KINDS)
    assert {g for i in ideas("en") for g in i.channels} == set(CHANNEL_GROUPS)


@pytest.mark.parametrize("sector", NAMED_SECTORS)
def test_each_sector_has_its_own_ideas(sector: str) -> None:
    own = [i for i in ideas("en") if sector in i.sectors]
    assert len(own) >= MIN_PER_SECTOR, f"{sector}: {[i.id for i in own]}"
    assert len({k for i in own for k in i.stages}) >= 4, f"{sector}: its ideas cover too few stages"


def test_physical_gestures_only_where_something_can_be_handed_over() -> None:
    for i in ideas("en"):
        if i.physical:
            assert set(i.channels) <= PHYSICAL_GROUPS, f"{i.id}: physical at {sorted(set(i.channels) - PHYSICAL_GROUPS)}"
    with pytest.raises(ValueError):
        WowIdea(id="x", channels=("online",), physical=True, idea="a card in the hand" * 2, why="because it is nice" * 2,
                effort="low", cost=(0, 1), time="a minute")


@pytest.mark.parametrize("lang", LANGS)
def test_nothing_in_exchange_for_a_review(lang: str) -> None:
    for i in ideas(lang):
        whole = f"{i.idea} {i.why}".lower()
        for phrase in INCENTIVE_PHRASES[lang]:
            assert phrase not in whole, f"{i.id}: ‘{phrase}’"
        review, reward = re.search(REVIEW_WORDS[lang], whole), re.search(REWARD_WORDS[lang], whole)
        assert not (review and reward), f"{i.id}: ‘{review and review.group()}’ together with ‘{reward and reward.group()}’"


def test_the_incentive_check_catches_the_old_mistake() -> None:
    old = "a small gift for everyone who writes a review"
    assert re.search(REVIEW_WORDS["en"], old) and re.search(REWARD_WORDS["en"], old)
    assert "in ruil voor" in "een proefje in ruil voor een recensie"


@pytest.mark.parametrize("lang", LANGS)
def test_no_money_or_currency_in_the_texts(lang: str) -> None:
    for i in ideas(lang):
        for field in TEXTS:
            found = MONEY.search(getattr(i, field))
            assert not found, f"{i.id}.{field}: ‘{found.group()}’ (cost is structured; the code renders money)"
        assert i.cost[1] <= 50 or i.per in ("once", "year"), f"{i.id}: {i.cost} per {i.per} is not small"


def test_the_money_check_catches_currency() -> None:
    for text in ("a few euros per customer", "€5 per order", "een paar euro", "costs 2,50", "$3", "5,- per klant"):
        assert MONEY.search(text), text
    for text in ("a quarter of an hour", "recent news", "twee minuten per taart"):
        assert not MONEY.search(text), text


@pytest.mark.parametrize("lang", LANGS)
def test_only_the_allowed_placeholders_and_the_touchpoint_in_quotes(lang: str) -> None:
    for i in ideas(lang):
        for field, allowed in ALLOWED.items():
            text = getattr(i, field)
            found = placeholders(text)
            assert found <= allowed, f"{i.id}.{field}: {sorted(found - allowed)}"
            text.format(touchpoint="Taart ophalen op zaterdag", persona="Feestende Fenna", business="Bakkerij Kruimel")
        assert i.idea.count("{touchpoint}") == i.idea.count(QUOTED_TOUCHPOINT[lang]), f"{i.id}: put {{touchpoint}} in quotes"
        lowered = f"{i.idea} {i.why}".lower()
        for pronoun in PERSONA_PRONOUNS:
            assert pronoun not in lowered, f"{i.id}: ‘{pronoun}’"


@pytest.mark.parametrize("lang", LANGS)
def test_no_two_ideas_share_a_sentence_or_an_opening(lang: str) -> None:
    seen: dict[str, str] = {}
    for i in ideas(lang):
        for field in ("idea", "why"):
            for sentence in sentences(getattr(i, field)):
                assert sentence not in seen, f"{i.id}.{field} repeats a sentence of {seen[sentence]}: ‘{sentence}’"
                seen[sentence] = f"{i.id}.{field}"
    openings = Counter(" ".join(i.idea.lower().split()[:3]) for i in ideas(lang))
    common = {o: n for o, n in openings.items() if n > 2}
    assert not common, f"boilerplate openings: {common}"


@pytest.mark.parametrize("lang", LANGS)
def test_costs_and_times_are_believable(lang: str) -> None:
    for i in ideas(lang):
        if not i.physical:
            assert i.cost[1] <= 40, f"{i.id}: a surprise without a thing handed over should cost little"
        assert len(i.time) <= 60, f"{i.id}: keep the time short"
