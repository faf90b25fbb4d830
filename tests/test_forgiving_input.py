"""Forgiving input: a choice matches by number, value, label, prefix, small typo and synonyms in both
languages; a closed choice that matches nothing says "did you mean …?" and stores nothing; a choice that
also takes free text asks before storing a text close to an option; a typed control label does what
the control does; the engine's texts never tell a terminal owner to tap."""
from __future__ import annotations

from typing import Any

import pytest

import prompts
from bot.engine import DONE, KEEP, State, handle
from bot.events import Choice, Command, Text
from bot.templates import sector_template
from bot.vocabulary import SHOW, SKIP


def at(step: str, lang: str = "en", answers: dict[str, Any] | None = None, **fields: Any) -> State:
    """A conversation waiting at `step`, with `answers` given as plain values."""
    return State(lang=lang, cursor=step, answers={k: {"v": v, "s": "ok"} for k, v in (answers or {}).items()}, **fields)


def typed(state: State, *lines: str):
    out = None
    for line in lines:
        out = handle(state, Text(line))
        state = out.state
    assert out is not None
    return out


def value(out, key: str) -> Any:
    entry = out.state.answers.get(key)
    return entry["v"] if entry else None


SECTOR = {"business.name": "De Korenschoof"}
# one stage with one touchpoint: the steps after the stages are in the plan
STAGE = {"business.name": "Bart", "journey.stages": ["Awareness"], "stage.awareness.touchpoints": ["Moment one"]}
CHANNEL = "stage.awareness.tp1.channel"


# --- single choices ------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("word", ["bakkerij", "Bakery", "BAKKERIJ", "banketbakker", "lunchroom", "1", "Bakkerij of café"])
def test_sector_words_in_either_language_choose_the_bakery(lang: str, word: str) -> None:
    out = typed(at("business.sector", lang, SECTOR), word)
    assert value(out, "business.sector") == "bakery"
    assert out.logged[0].raw == word


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("word", ["bakkerj", "bak", "Bakkery"])
def test_a_near_sector_is_confirmed_then_the_bakery_template_is_used(lang: str, word: str) -> None:
    asked = typed(at("business.sector", lang, SECTOR), word)
    assert "business.sector" not in asked.state.answers and not asked.logged  # nothing stored yet
    question = asked.replies[-1]
    assert question.type == "question" and question.step == "business.sector"
    assert [c.value for c in question.choices] == ["bakery", KEEP]
    assert word in question.text and ("Bakery or café" in question.text or "Bakkerij of café" in question.text)
    yes = typed(asked.state, "ja" if lang == "nl" else "yes")
    assert value(yes, "business.sector") == "bakery"
    assert yes.state.pending is None and yes.state.confirm is None
    # the sector's template proposes the stages
    stages = handle(at("journey.stages", lang, {**SECTOR, "business.sector": "bakery"}), Command(SHOW))
    first = sector_template(lang, "bakery")[0].name
    assert first in stages.replies[-1].text
    # a tap on the proposed option answers too
    tapped = handle(asked.state, Choice("bakery", "business.sector"))
    assert value(tapped, "business.sector") == "bakery"


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_keep_what_i_typed_stores_the_free_text(lang: str) -> None:
    asked = typed(at("business.sector", lang, SECTOR), "bakkerj")
    kept = handle(asked.state, Choice(KEEP, "business.sector"))
    assert value(kept, "business.sector") == "bakkerj"
    again = typed(asked.state, "houden" if lang == "nl" else "keep what I typed")
    assert value(again, "business.sector") == "bakkerj"
    no = typed(asked.state, "nee" if lang == "nl" else "no")
    assert value(no, "business.sector") == "bakkerj"


def test_the_confirmation_is_asked_again_after_a_command_and_a_new_answer_replaces_it() -> None:
    asked = typed(at("business.sector", "en", SECTOR), "bakkerj")
    status = handle(asked.state, Command("status"))
    assert status.replies[-1].step == "business.sector" and "bakkerj" in status.replies[-1].text
    other = typed(asked.state, "Florist")
    assert value(other, "business.sector") == "Florist" and other.state.confirm is None
    salon = typed(asked.state, "kapper")
    assert value(salon, "business.sector") == "salon"


def test_free_text_far_from_every_option_is_stored_as_typed() -> None:
    for text in ("Florist", "Bloemist", "Fietsverhuur aan toeristen"):
        out = typed(at("business.sector", "nl", SECTOR), text)
        assert value(out, "business.sector") == text


def test_a_goal_near_an_option_asks_to_confirm() -> None:
    asked = typed(at("journey.goal", "en", SECTOR), "more leeds")
    assert "journey.goal" not in asked.state.answers
    assert [c.value for c in asked.replies[-1].choices] == ["leads", KEEP]
    assert value(typed(asked.state, "1"), "journey.goal") == "leads"
    assert value(typed(at("journey.goal", "nl", SECTOR), "vaste klanten"), "journey.goal") == "repeat"


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("word,expected", [
    ("elke maand", "monthly"), ("maandelijks", "monthly"), ("every month", "monthly"), ("Every month (advised)", "monthly"),
    ("no reminders", "never"), ("nooit", "never"), ("geen herinneringen", "never"), ("per kwartaal", "quarterly"),
    ("2", "quarterly"), ("half_year", "half_year"), ("quartely", "quarterly"), ("elke maand graag", "monthly"),
])
def test_review_rhythm_words(lang: str, word: str, expected: str) -> None:
    assert value(typed(at("journey.review", lang, STAGE), word), "journey.review") == expected


@pytest.mark.parametrize("lang,text,mentions", [
    ("en", "whenever", "Did you mean"),
    ("nl", "als het uitkomt", "Bedoel je"),
])
def test_a_far_off_word_on_a_closed_choice_gets_did_you_mean_and_stores_nothing(lang: str, text: str, mentions: str) -> None:
    out = typed(at("journey.review", lang, STAGE), text)
    assert out.replies[0].type == "error"
    assert mentions in out.replies[0].text and text in out.replies[0].text
    assert "journey.review" not in out.state.answers and not out.logged
    assert out.replies[-1].step == "journey.review"  # asked again


def test_did_you_mean_names_the_nearest_options() -> None:
    out = typed(at("journey.review", "en", STAGE), "every mnth please")
    assert out.replies[0].type == "error" and "Every month" in out.replies[0].text
    ambiguous = typed(at("journey.review", "en", STAGE), "every")  # a prefix of three options
    assert ambiguous.replies[0].type == "error" and not ambiguous.logged
    assert "Every month" in ambiguous.replies[0].text and "Every three months" in ambiguous.replies[0].text


def test_closed_choice_takes_a_unique_prefix_or_a_small_typo() -> None:
    assert value(typed(at("journey.review", "en", STAGE), "quart"), "journey.review") == "quarterly"
    assert value(typed(at("journey.review", "nl", STAGE), "maandelijk"), "journey.review") == "monthly"
    assert value(typed(at("journey.review", "nl", STAGE), "nooiy"), "journey.review") == "never"


# --- multi choices -------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["nl", "en"])
def test_several_numbers_select_several(lang: str) -> None:
    for text in ("1 en 3", "1 and 3", "1,3", "1 3", "1; 3", "1\n3"):
        out = typed(at("persona.source", lang), text)
        assert value(out, "persona.source") == ["interviews", "gut"], text


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_klaar_finishes_a_tapped_selection(lang: str) -> None:
    state = at("persona.source", lang)
    state = handle(state, Choice("data", "persona.source")).state
    for word in ("klaar", "Done", "ok", "Klaar ✔"):
        out = typed(state, word)
        assert value(out, "persona.source") == ["data"], word
    empty = typed(at("persona.source", lang), "klaar")
    assert empty.replies[0].type == "error" and "persona.source" not in empty.state.answers


def test_typed_items_add_to_what_was_tapped() -> None:
    state = handle(at("persona.channels", "nl"), Choice("google", "persona.channels")).state
    out = typed(state, "instagram, winkel")
    assert value(out, "persona.channels") == ["google", "instagram", "shop"]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_typed_persona_channels(lang: str) -> None:
    out = typed(at("persona.channels", lang), "winkel, instagram, in person\nmond tot mond; nieuwsbrief")
    assert value(out, "persona.channels") == ["shop", "instagram", "word_of_mouth", "email"]
    out = typed(at("persona.channels", lang), "insta en google, carrier pigeon")
    assert value(out, "persona.channels") == ["instagram", "google", "carrier pigeon"]


def test_a_near_persona_channel_is_confirmed_item_by_item() -> None:
    asked = typed(at("persona.channels", "en"), "instagram, linkedn, faceboo")
    assert "persona.channels" not in asked.state.answers
    assert "linkedn" in asked.replies[-1].text
    second = typed(asked.state, "yes")
    assert "persona.channels" not in second.state.answers and "faceboo" in second.replies[-1].text
    done = handle(second.state, Choice(KEEP, "persona.channels"))
    assert value(done, "persona.channels") == ["instagram", "linkedin", "faceboo"]


def test_a_closed_multi_choice_item_that_matches_nothing_gets_did_you_mean() -> None:
    out = typed(at("persona.source", "en"), "gut, telepathy")
    assert out.replies[0].type == "error" and "telepathy" in out.replies[0].text and "Did you mean" in out.replies[0].text
    assert "persona.source" not in out.state.answers


# --- touchpoint channels -------------------------------------------------------------------------



@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("word,expected", [
    ("winkel", "shop"), ("instagram", "social"), ("factuur", "invoice"), ("in person", "in_person"),
    ("bellen", "phone"), ("phone", "phone"), ("mail", "email"), ("shop", "shop"), ("invoice", "invoice"),
    ("Facebook", "social"), ("koerier", "courier"), ("Persoonlijk contact", "in_person"),
])
def test_typed_touchpoint_channels(lang: str, word: str, expected: str) -> None:
    out = typed(at(CHANNEL, lang, STAGE), word)
    assert value(out, CHANNEL) == expected, out.replies[-1].text


# --- typed control labels ------------------------------------------------------------------------

PERSONA = {"business.name": "Bart", "persona.name": "Brenda"}


@pytest.mark.parametrize("lang,label", [
    ("nl", "Deze fases behouden"), ("nl", "deze fases behouden!"), ("nl", "Deze fase behouden"), ("nl", "behouden"),
    ("en", "Keep these stages"), ("en", "keep these stages."), ("en", "Use these"), ("en", "keep"),
    ("nl", "Keep these stages"), ("en", "Deze fases behouden"),
])
def test_typing_the_keep_label_keeps_the_proposed_stages(lang: str, label: str) -> None:
    out = typed(at("journey.stages", lang, PERSONA), label)
    stages = value(out, "journey.stages")
    assert stages is not None and len(stages) == 6 and label not in stages


def test_typed_skip_and_dont_know_labels_do_what_the_buttons_do() -> None:
    state = at("concept.sacrifice", "nl", {"business.name": "Bart"})
    skipped = typed(state, "Overslaan")
    assert skipped.state.answers["concept.sacrifice"]["s"] == "skipped"
    unknown = typed(at("business.sector", "en", SECTOR), "I don't know")
    assert unknown.state.answers["business.sector"]["s"] == "unknown"
    unknown = typed(at("business.sector", "nl", SECTOR), "Weet ik nie")
    assert unknown.state.answers["business.sector"]["s"] == "unknown"
    # a short word near "skip" is an answer, not a skip
    assert value(typed(at("concept.sacrifice", "en", {"business.name": "Bart"}), "Skin"), "concept.sacrifice") == "Skin"


def test_lists_accept_commas_semicolons_and_new_lines() -> None:
    for text in ("A, B, C", "A; B; C", "A\nB\nC", "A\r\nB\r\nC", "- A\n- B\n- C", "A, B\nC"):
        out = typed(at("journey.stages", "en", PERSONA), text)
        assert value(out, "journey.stages") == ["A", "B", "C"], text


# --- channel-neutral texts -----------------------------------------------------------------------

def test_the_engine_never_tells_the_owner_to_tap() -> None:
    import re

    for lang in prompts.LANGUAGES:
        for name in ("messages", "questions"):
            text = prompts.text(lang, f"{name}.yaml")
            assert not re.search(r"\b(tap|taps|tapping|tik|tikken)\b", text, re.IGNORECASE), (lang, name)


def test_buttons_keep_working() -> None:
    state = at("persona.source", "en")
    state = handle(state, Choice("gut", "persona.source")).state
    out = handle(state, Choice(DONE, "persona.source"))
    assert value(out, "persona.source") == ["gut"]
    out = handle(at("concept.sacrifice", "en", {"business.name": "Bart"}), Choice(SKIP, "concept.sacrifice"))
    assert out.state.answers["concept.sacrifice"]["s"] == "skipped"


# --- through the application layer: the confirmation is kept between turns ------------------------

def test_the_confirmation_survives_between_turns_in_the_database(sqlite_url: str) -> None:
    from app import Journeys, OwnerKey
    from bot.events import Start
    from store.db import database_url
    from store.repository import Store

    store = Store.open(database_url({"DATABASE_URL": sqlite_url}))
    try:
        journeys = Journeys(store)
        owner = OwnerKey("terminal", "local", "t1")
        journeys.handle(owner, Start(lang_hint="nl"))
        journeys.handle(owner, Text("De Korenschoof"))
        asked = journeys.handle(owner, Text("bakkerj"))
        assert asked[-1].step == "business.sector" and "bakkerj" in asked[-1].text
        answered = journeys.handle(owner, Text("ja"))
        assert answered[-1].step == "journey.goal"
        typo = journeys.handle(owner, Text("meer herhaalaankoopen"))
        assert [c.value for c in typo[-1].choices] == ["repeat", KEEP]
        kept = journeys.handle(owner, Choice(KEEP, typo[-1].step))
        assert kept[-1].step == "journey.process"
    finally:
        store.close()
