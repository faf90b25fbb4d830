"""The pain classifier (bot/pains.py) and its cue files (prompts/<lang>/pains.yaml).

The labelled corpus (bench/data/pains.yaml) must keep its accuracy; the tricky sentences that the
old substring test got wrong are spelled out; and for any text at all, classify returns known ids."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import prompts
from bench import pain_classifier as bench
from bot import pains
from bot.knowledge import PAIN_CLASSES

LANGS = ("en", "nl")


# ---- the corpus ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_the_labelled_corpus_keeps_its_accuracy(lang: str) -> None:
    cases = bench.corpus()["tuning"][lang]
    assert len(cases) >= 70
    score = bench.score(cases, lang, "tuning", pains.classify)
    misses = "\n  ".join(f"{c.text!r}: expected {list(c.classes)}, got {list(got)}" for c, got in score.misses)
    assert score.pct(score.main) >= 90, f"main {score.pct(score.main):.0f} %:\n  {misses}"
    assert score.pct(score.exact) >= 80, f"exact {score.pct(score.exact):.0f} %:\n  {misses}"


@pytest.mark.parametrize("lang", LANGS)
def test_the_corpus_covers_every_class_and_labels_only_known_ones(lang: str) -> None:
    data = bench.corpus()
    for part in bench.SETS:
        for case in data[part][lang]:
            assert set(case.classes) <= set(PAIN_CLASSES), case
            assert len(set(case.classes)) == len(case.classes), case
    tuning = data["tuning"][lang]
    for cls in PAIN_CLASSES:
        assert sum(cls in c.classes for c in tuning) >= 4, f"{cls}: fewer than 4 {lang} sentences"
    assert sum(not c.classes for c in tuning) >= 10


# ---- the sentences a substring test got wrong ------------------------------------------------------

@pytest.mark.parametrize("text, lang", [
    ("Op de website staan geen prijzen", "nl"),
    ("De prijzen zijn niet duidelijk", "nl"),
    ("Klanten vinden ons te duur", "nl"),
    ("We hebben maar 9 reviews", "nl"),
    ("We only have 9 reviews and old photos", "en"),
    ("Klanten zijn dol op ons zuurdesembrood", "nl"),  # uur inside a word
    ("Natuurlijk rijden we zelf rond in de buurt", "nl"),  # uur, rij inside words
    ("Duurzaamheid vinden onze klanten belangrijk", "nl"),
    ("Het bedrijf draait goed, vrijdag is onze drukste dag", "nl"),
    ("Ons uurtarief schrikt mensen af", "nl"),
    ("The hourly rate surprises people", "en"),
    ("We have 3 shops and 12 staff", "en"),
    ("The order form has 25 fields", "en"),
    ("Reception is often engaged between 8 and 9", "en"),
    ("De telefoon is tussen 8 en 9 vaak in gesprek", "nl"),
    ("Most clients come back every 6 weeks", "en"),
    ("De meeste klanten komen elke 6 weken terug", "nl"),
    ("We're open 7 days a week", "en"),
    ("We sell about 200 loaves a day", "en"),
    ("We zijn om 8 uur open", "nl"),
    ("We zijn open van 9 tot 17 uur", "nl"),
    ("Klanten vergeten hun wachtwoord", "nl"),
    ("The waiter forgets the order", "en"),
])
def test_no_waiting_without_a_wait(text: str, lang: str) -> None:
    assert "waiting" not in pains.classify(text, lang)


@pytest.mark.parametrize("text, lang", [
    ("Zaterdagochtend staat er een rij van twintig minuten", "nl"),
    ("Klanten moeten soms 3 weken wachten", "nl"),
    ("Het duurt twee dagen voor een bestelling verstuurd is", "nl"),
    ("De wachttijd is een half uur", "nl"),
    ("Levertijd is zes tot acht weken", "nl"),
    ("It takes 3 weeks before we can start", "en"),
    ("Customers wait 20 minutes at the counter", "en"),
    ("appointments run 40 min late", "en"),
    ("the fitting takes twenty minutes", "en"),
    ("the repair takes a couple of weeks", "en"),
])
def test_a_duration_or_a_queue_is_waiting(text: str, lang: str) -> None:
    assert pains.classify(text, lang)[:1] == ("waiting",)


@pytest.mark.parametrize("text, lang, expected", [
    ("Pas na twee dagen antwoord op WhatsApp", "nl", ("response", "waiting")),
    ("It takes us 3 days to answer a quote request", "en", ("response", "waiting")),
    ("Op de website staan geen prijzen en de pagina laadt traag op mobiel", "nl", ("price", "digital")),
    ("There is no parking at the door", "en", ("access",)),
    ("We vragen nooit om een review", "nl", ("social_proof",)),
    ("Geen contact na het feest", "nl", ("follow_up",)),
    ("Reception is often engaged between 8 and 9", "en", ("response",)),
    ("The invoice arrives weeks later and nobody explains what the insurer pays", "en", None),
    ("Saturday there's a long queue and the card machine often fails, so it's cash only", "en", ("waiting", "payment")),
])
def test_the_sentences_of_the_design(text: str, lang: str, expected: tuple[str, ...] | None) -> None:
    got = pains.classify(text, lang)
    if expected is None:  # price first: not knowing what it costs is price; the insurer is a partner
        assert "price" in got and "partner" in got and "waiting" not in got
    else:
        assert got == expected


def test_a_longer_cue_takes_the_words_it_shares_with_a_shorter_one() -> None:
    # "horen ... niks" (a slow reply) and "niks meer van ons" (no follow-up) share "niks"
    assert pains.classify("Daarna horen ze niks meer van ons", "nl") == ("follow_up",)


# ---- owners' own words -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, lang, cls", [
    ("Guests stand outside in the rain until we open", "en", "waiting"),
    ("They only see our rates after the first consult", "en", "price"),
    ("The phone rings out after six", "en", "response"),
    ("We never send the photos we promised", "en", "follow_up"),
    ("Competitors have hundreds of stars, we have twelve", "en", "social_proof"),
    ("The cleaners skip rooms now and then", "en", "quality"),
    ("Our workshop is on an industrial estate with no signs", "en", "access"),
    ("Staff chat among themselves while customers wait at the counter", "en", "attention"),
    ("Customers have to download an app just to check in", "en", "digital"),
    ("Klanten snappen het verschil tussen onze abonnementen niet", "nl", "information"),
    ("Er komt nog meerwerk bovenop en daar schrikken mensen van", "nl", "price"),
    ("Mensen krijgen een bandje en hangen op", "nl", "response"),
    ("De bloemen zijn binnen twee dagen verwelkt", "nl", "quality"),
    ("Onze werkplaats zit op een industrieterrein zonder bordjes", "nl", "access"),
    ("Personeel kletst onderling terwijl klanten aan de balie wachten", "nl", "attention"),
])
def test_the_words_owners_use_for_a_problem_name_its_class(text: str, lang: str, cls: str) -> None:
    assert pains.classify(text, lang)[:1] == (cls,)


@pytest.mark.parametrize("text, lang", [
    ("We bake everything from scratch", "en"),  # not a scratch on the paint
    ("Nick runs the front desk", "en"),  # not a nick in a dog's ear
    ("We offer click and collect", "en"),
    ("We sell fish and chips", "en"),  # not chipped paint
    ("We opened a second shop last spring", "en"),  # "a second" is no duration
    ("We host workshops on Saturdays", "en"),  # not a hosting company
    ("Ik vat het even samen", "nl"),  # not VAT
    ("Als je wilt kun je langskomen", "nl"),  # not English "wilt"
    ("We repareren banden en fietsen", "nl"),  # not a voicemail "bandje"
    ("Het is een ramp met het weer", "nl"),  # not a wheelchair ramp
])
def test_a_word_with_another_meaning_names_no_pain(text: str, lang: str) -> None:
    assert pains.classify(text, lang) == ()


# ---- folding, languages ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, lang", [
    ("ER IS GEEN PARKEERPLEK VOOR DE DEUR", "nl"),
    ("Er is geen parkeerplék vóór de deur", "nl"),
    ("THE WEBSITE IS REALLY SLOW ON MOBILE", "en"),
    ("Thé wébsite is réally slow on mobile", "en"),
])
def test_case_and_accents_do_not_matter(text: str, lang: str) -> None:
    plain = text.lower().replace("é", "e").replace("ó", "o")
    assert pains.classify(text, lang) == pains.classify(plain, lang) != ()


def test_the_other_languages_cues_count_for_mixed_sentences() -> None:
    assert pains.classify("De reviews zijn outdated en de website is super slow", "nl") == ("social_proof", "digital")
    assert pains.classify("The pin machine at the kassa is often offline", "en") == ("payment",)
    own = pains.compile_cues(("nl",))
    assert pains.rank("De reviews zijn outdated en de website is super slow", own) == ("social_proof",)


def test_an_unknown_language_reads_as_english() -> None:
    assert pains.classify("There is no parking at the door", "fr") == ("access",)
    assert pains.labels("de") == pains.labels("en")


@pytest.mark.parametrize("word, stems", [
    ("prijzen", "prijs"), ("rijen", "rij"), ("wachtte", "wacht"), ("weken", "wek"), ("week", "wek"),
    ("foto's", "foto"), ("reviews", "review"), ("bellen", "bel"), ("tarieven", "tarief"),
])
def test_dutch_endings_come_off(word: str, stems: str) -> None:
    assert pains.stem_nl(word) == stems


@pytest.mark.parametrize("word, stems", [
    ("queues", "queu"), ("queuing", "queu"), ("prices", "pric"), ("waiting", "wait"), ("shopping", "shop"),
    ("replies", "reply"), ("stall", "stall"), ("stale", "stal"),
])
def test_english_endings_come_off(word: str, stems: str) -> None:
    assert pains.stem_en(word) == stems


@pytest.mark.parametrize("text, lang, durations", [
    ("een rij van twintig minuten", "nl", 1),
    ("zes tot acht weken", "nl", 1),
    ("tussen 8 en 9 uur", "nl", 0),
    ("van 9 tot 17 uur", "nl", 0),
    ("om de paar weken", "nl", 0),
    ("3 minuten lopen", "nl", 0),
    ("for a week", "en", 1),
    ("once a week", "en", 0),
    ("7 days a week", "en", 0),
    ("a 3 minute walk", "en", 0),
    ("9 reviews", "en", 0),
])
def test_what_counts_as_a_duration(text: str, lang: str, durations: int) -> None:
    spec = pains.compile_cues((lang,)).durations[0]
    assert len(pains.duration_spans(pains.tokens(text), spec)) == durations


# ---- the cue files ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_every_class_has_a_label_and_cues_that_parse(lang: str) -> None:
    classes = prompts.load(lang, "pains")["classes"]
    assert tuple(classes) == PAIN_CLASSES
    for cls, entry in classes.items():
        assert str(entry["label"]).strip(), cls
        cues = entry["cues"]
        assert len(cues) >= 5, f"{lang} {cls}: too few cues"
        assert len(set(cues)) == len(cues), f"{lang} {cls}: a cue twice"
        for cue in cues:
            assert pains.parse_cue(cue, lang) is not None, f"{lang} {cls}: {cue!r} says nothing"
        for other in entry.get("after") or ():
            assert other in PAIN_CLASSES, f"{lang} {cls}: after {other!r}"
    assert set(pains.labels(lang)) == set(PAIN_CLASSES)


def test_nl_and_en_name_the_same_classes_and_order_them_alike() -> None:
    nl, en = (prompts.load(lang, "pains")["classes"] for lang in LANGS)
    assert list(nl) == list(en) == list(PAIN_CLASSES)
    assert {c: e.get("after") for c, e in nl.items()} == {c: e.get("after") for c, e in en.items()}
    assert set(prompts.load("nl", "pains")["durations"]) == set(prompts.load("en", "pains")["durations"])


def test_a_star_on_both_ends_is_refused() -> None:
    with pytest.raises(ValueError):
        pains.parse_cue("*kaart*", "nl")


def test_labels_are_a_fresh_copy() -> None:
    pains.labels("nl")["waiting"] = "x"
    assert pains.labels("nl")["waiting"] == "Wachten"
    assert pains.labels("en")["waiting"] == "Waiting"


# ---- any text at all -------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300), lang=st.sampled_from(("nl", "en", "fr", "")))
def test_classify_never_raises_and_returns_known_classes_once(text: str, lang: str) -> None:
    got = pains.classify(text, lang)
    assert isinstance(got, tuple)
    assert set(got) <= set(PAIN_CLASSES)
    assert len(set(got)) == len(got)


words = st.sampled_from(["wacht", "rij", "prijzen", "duur", "duurt", "3", "twee", "weken", "uur", "om", "elke", "a", "week",
                         "days", "every", "no", "parking", "reviews", "'s", "don't", "-", "...", "*", "{duration}", "é"])


@settings(max_examples=300, deadline=None)
@given(text=st.lists(words, max_size=30).map(" ".join), lang=st.sampled_from(LANGS))
def test_classify_is_stable_on_cue_words(text: str, lang: str) -> None:
    got = pains.classify(text, lang)
    assert set(got) <= set(PAIN_CLASSES) and len(set(got)) == len(got)
    assert pains.classify(text.upper(), lang) == got
