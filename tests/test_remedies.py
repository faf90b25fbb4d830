"""The coach's remedies (prompts/<lang>/remedies.yaml): both languages load through the typed loader,
say the same thing in the same structure, cover every pain class and sector, and keep the rules of
the texts: no money or currency written out (the code renders cost), nothing offered for a review,
only the known placeholders, and no sentence shared between two remedies."""
from __future__ import annotations

import re
import string
from collections import Counter, defaultdict

import pytest

from bot import knowledge
from bot.knowledge import CHANNEL_GROUPS, PAIN_CLASSES, SECTORS, STAGE_KINDS, Remedy

LANGS = ("nl", "en")
STRUCTURE = ("id", "classes", "sectors", "stages", "channels", "effort", "cost", "per")
TEXTS = ("do", "why", "time")
PLACEHOLDERS = {"persona", "touchpoint", "business"}

MONEY = re.compile(
    r"[€$£¥]|\beuros?\b|\bEUR\b|\bUSD\b|\bGBP\b|\bdollars?\b|\bpounds?\b"
    r"|\d[\d.,]*\s*(?:k\b|,-|euro|eur\b|dollar|pond\b|pound|cent|usd|gbp)",
    re.IGNORECASE,
)
# Review platforms forbid incentivised reviews: no discount, gift, raffle or extra for writing one.
INCENTIVE_PHRASES = {
    "en": ("in exchange for", "in return for", "discount for a review", "gift for", "reward", "raffle",
           "prize", "voucher", "free coffee for", "for every review", "for each review", "for leaving a review",
           "for writing a review"),
    "nl": ("in ruil voor", "korting voor een review", "cadeautje voor een review", "cadeau voor",
           "beloning", "beloon", "verloting", "winactie", "tegoedbon", "voor elke review", "per review",
           "als bedankje voor je review", "voor het schrijven van een review"),
}
REVIEW_WORDS = {"en": ("review", "rating", "stars"), "nl": ("review", "recensie", "beoordeling", "sterren")}
PERK_WORDS = {"en": ("discount", "gift", "free", "present", "bonus", "extra"),
              "nl": ("korting", "cadeau", "gratis", "kado", "bonus", "extraatje")}


def load(lang: str) -> tuple[Remedy, ...]:
    return knowledge.remedies(lang)


def texts(remedy: Remedy) -> dict[str, str]:
    return {field: getattr(remedy, field) for field in TEXTS}


def sentences(text: str) -> list[str]:
    """The sentences of a text, also the parts after a colon or semicolon, as lower-case words; fragments
    under four words (‘an hour’) are left out. The same cut as the coach's variety check."""
    out = []
    for part in re.split(r"(?<=[.!?:;])\s+", text):
        words = re.findall(r"\w+", part.casefold())
        if len(words) >= 4:
            out.append(" ".join(words))
    return out


@pytest.mark.parametrize("lang", LANGS)
def test_the_file_loads_and_ids_are_unique(lang: str) -> None:
    remedies = load(lang)
    assert len(remedies) >= 60, f"{lang}: only {len(remedies)} remedies"
    doubles = [rid for rid, n in Counter(r.id for r in remedies).items() if n > 1]
    assert not doubles, f"{lang}: ids used twice: {doubles}"


def test_dutch_and_english_have_the_same_ids_order_and_structure() -> None:
    nl, en = load("nl"), load("en")
    assert [r.id for r in nl] == [r.id for r in en], "the ids or their order differ between nl and en"
    different = [
        f"{a.id}.{field}: {getattr(a, field)!r} in nl, {getattr(b, field)!r} in en"
        for a, b in zip(nl, en)
        for field in STRUCTURE
        if getattr(a, field) != getattr(b, field)
    ]
    assert not different, "structured fields differ:\n  " + "\n  ".join(different)


@pytest.mark.parametrize("lang", LANGS)
def test_every_pain_class_has_three_remedies_for_any_business(lang: str) -> None:
    generic = Counter(c for r in load(lang) if not r.sectors for c in r.classes)
    short = {c: generic[c] for c in PAIN_CLASSES if generic[c] < 3}
    assert not short, f"{lang}: pain classes with fewer than 3 generic remedies: {short}"


@pytest.mark.parametrize("lang", LANGS)
def test_every_pain_class_has_a_remedy_at_any_step(lang: str) -> None:
    """Whatever the stage kind and channel of the step, and also when its channel is unknown, each pain
    class has a remedy for any business (the coach only offers remedies whose stages and channels fit)."""
    stages: dict[str, set[str]] = defaultdict(set)
    channels: dict[str, set[str]] = defaultdict(set)
    any_channel: set[str] = set()
    for r in load(lang):
        if r.sectors:
            continue
        for c in r.classes:
            stages[c] |= set(r.stages or STAGE_KINDS)
            channels[c] |= set(r.channels or CHANNEL_GROUPS)
            if not r.channels:
                any_channel.add(c)
    gaps = [f"{c}: stages {sorted(set(STAGE_KINDS) - stages[c])}, channels {sorted(set(CHANNEL_GROUPS) - channels[c])}"
            for c in PAIN_CLASSES if stages[c] != set(STAGE_KINDS) or channels[c] != set(CHANNEL_GROUPS)]
    gaps += [f"{c}: no remedy for a step without a channel" for c in PAIN_CLASSES if c not in any_channel]
    assert not gaps, f"{lang}: steps no generic remedy fits:\n  " + "\n  ".join(gaps)


@pytest.mark.parametrize("lang", LANGS)
def test_every_sector_has_eight_remedies_of_its_own(lang: str) -> None:
    own = Counter(s for r in load(lang) for s in r.sectors)
    short = {s: own[s] for s in SECTORS if s != "other" and own[s] < 8}
    assert not short, f"{lang}: sectors with fewer than 8 specific remedies: {short}"


@pytest.mark.parametrize("lang", LANGS)
def test_no_money_or_currency_in_the_texts(lang: str) -> None:
    found = [f"{r.id}.{field}: {MONEY.search(text).group(0)!r}"  # type: ignore[union-attr]
             for r in load(lang) for field, text in texts(r).items() if MONEY.search(text)]
    assert not found, f"{lang}: money written in a text (use cost/per):\n  " + "\n  ".join(found)


@pytest.mark.parametrize("lang", LANGS)
def test_nothing_is_offered_for_a_review(lang: str) -> None:
    found = []
    for r in load(lang):
        for field, text in texts(r).items():
            low = text.lower()
            found += [f"{r.id}.{field}: {phrase!r}" for phrase in INCENTIVE_PHRASES[lang] if phrase in low]
            for sentence in re.split(r"(?<=[.;:!?])\s+", low):
                if any(w in sentence for w in REVIEW_WORDS[lang]):
                    found += [f"{r.id}.{field}: {perk!r} in a sentence about reviews"
                              for perk in PERK_WORDS[lang] if re.search(rf"\b{perk}\b", sentence)]
    assert not found, f"{lang}: review incentive wording:\n  " + "\n  ".join(found)


@pytest.mark.parametrize("lang", LANGS)
def test_only_known_placeholders_and_the_texts_format(lang: str) -> None:
    values = {"persona": "Feestende Fenna", "touchpoint": "afhalen", "business": "Bakkerij Bol"}
    for r in load(lang):
        for field, text in texts(r).items():
            names = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
            assert names <= PLACEHOLDERS, f"{lang} {r.id}.{field}: unknown placeholders {names - PLACEHOLDERS}"
            text.format(**values)


@pytest.mark.parametrize("lang", LANGS)
def test_no_two_remedies_share_a_sentence(lang: str) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for r in load(lang):
        for field in ("do", "why"):
            for sentence in sentences(getattr(r, field)):
                owners[sentence].add(r.id)
    shared = {s: sorted(ids) for s, ids in owners.items() if len(ids) > 1}
    assert not shared, f"{lang}: sentences used by more than one remedy:\n  " + "\n  ".join(
        f"{ids}: {s!r}" for s, ids in shared.items())


def test_dutch_never_falls_back_on_a_pronoun_pair() -> None:
    found = [f"{r.id}.{field}" for r in load("nl") for field, text in texts(r).items()
             if re.search(r"\b(hem of haar|hij of zij|zijn of haar|hem/haar|hij/zij)\b", text, re.IGNORECASE)]
    assert not found, "use {persona} or ‘je klant’ instead: " + ", ".join(found)


def test_the_checks_catch_what_they_guard() -> None:
    assert MONEY.search("kost 25 euro") and MONEY.search("about €5") and MONEY.search("a 10 pound fee")
    assert MONEY.search("vanaf 15,-") and not MONEY.search("twee dagen, vijf punten, 4G, A4’tje")
    assert sentences("Send it out today. Then call them back: it helps a lot; an hour.") == [
        "send it out today", "then call them back", "it helps a lot"]
