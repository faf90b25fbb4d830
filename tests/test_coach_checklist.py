"""The checklist of the seven classic mistakes checks the answers, not just their presence."""
from __future__ import annotations

from datetime import date

from bot.coach import build_report
from bot.flow import stage_slugs, touchpoint_key
from bot.journey import build_view
from devkit.coach_cases import answers_of, ok, view_of
from devkit.scripts import BAKERY_BUSINESS_NL, INSTALLER_BUSINESS_NL, PHYSIO_BUSINESS_EN
from tests.conftest import TODAY


def checks(view) -> dict:
    return {m.number: m for m in build_report(view, TODAY).mistakes}


def test_a_second_kind_of_customer_in_the_answers_is_named_with_new() -> None:
    plain = checks(view_of(BAKERY_BUSINESS_NL))
    assert plain[5].ok
    answers = answers_of(BAKERY_BUSINESS_NL)
    slug = stage_slugs([s.name for s in BAKERY_BUSINESS_NL.stages])[2]
    answers[f"stage.{slug}.touchpoints"] = ok(["Taart bestellen aan de toonbank", "Offerte voor bedrijfscatering"])
    mixed = checks(build_view(answers, "nl", 1))
    assert not mixed[5].ok
    assert "zakelijke klanten" in mixed[5].note and "/new" in mixed[5].note
    # a persona that is everyone
    everyone = checks(view_of(PHYSIO_BUSINESS_EN, persona__name="everyone"))
    assert not everyone[5].ok and "sounds like everyone" in everyone[5].note


def test_a_persona_in_a_few_vague_words_is_thin() -> None:
    assert checks(view_of(PHYSIO_BUSINESS_EN))[3].ok
    thin = checks(view_of(PHYSIO_BUSINESS_EN, persona__behaviour="relax after work", persona__pains="no time"))[3]
    assert not thin.ok
    assert "What the persona does" in thin.note or "Behaviour" in thin.note or "behaviour" in thin.note.lower()


def test_a_solo_owner_is_told_what_others_could_take_over_not_scolded() -> None:
    answers = answers_of(PHYSIO_BUSINESS_EN)
    for key, entry in list(answers.items()):
        if key.endswith(".team"):
            answers[key] = ok("owner")
    answers["journey.team"] = ok("owner")
    six = checks(build_view(answers, "en", 1))[6]
    assert six.ok
    assert "tool, a freelancer or a partner" in six.note
    assert "Online booking page" in six.note  # a booking problem a booking tool can take over
    marketing_only = answers_of(PHYSIO_BUSINESS_EN)
    for key in list(marketing_only):
        if key.endswith(".team"):
            marketing_only[key] = ok("marketing")
    assert not checks(build_view(marketing_only, "en", 1))[6].ok


def test_customer_talks_and_own_data_follow_the_evidence_lights() -> None:
    installer = checks(view_of(INSTALLER_BUSINESS_NL))
    assert installer[1].ok and installer[2].ok
    answers = answers_of(INSTALLER_BUSINESS_NL)
    for key in list(answers):
        if key.endswith(".evidence") or key == "persona.source":
            answers[key] = ok(["gut"])
    guessed = checks(build_view(answers, "nl", 1))
    assert not guessed[1].ok and not guessed[2].ok
    assert "Offerte" in guessed[1].note  # names the parts without customer talks


def test_the_review_follows_the_rhythm() -> None:
    for rhythm, expected, said in (("monthly", "2026-12-23", "23 December 2026"), ("quarterly", "2027-02-23", "23 February 2027"), ("half_year", "2027-05-23", "23 May 2027")):
        report = build_report(view_of(PHYSIO_BUSINESS_EN, journey__review=rhythm), TODAY)
        seven = {m.number: m for m in report.mistakes}[7]
        assert report.review_date == expected and seven.ok and said in seven.note
    never = build_report(view_of(PHYSIO_BUSINESS_EN, journey__review="never"), TODAY)
    seven = {m.number: m for m in never.mistakes}[7]
    assert never.review_date == "" and not seven.ok and "/edit" in seven.note
    end_of_month = build_report(view_of(PHYSIO_BUSINESS_EN, journey__review="quarterly"), date(2026, 11, 30))
    assert end_of_month.review_date == "2027-02-28"
