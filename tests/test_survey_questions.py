"""The customer survey asks about the steps the owner scores lowest or knows least about, in the words a
customer would use, and keeps one column per surveyed stage for the answers."""
from __future__ import annotations

from bot.journey import build_view
from bot.survey import OVERALL, activity_of, survey_questions, survey_text
from devkit.coach_cases import answers_of, ok, view_of
from devkit.scripts import INSTALLER_BUSINESS_NL, PHYSIO_BUSINESS_EN


def test_questions_name_what_the_customer_did_not_the_stage() -> None:
    view = view_of(PHYSIO_BUSINESS_EN)
    questions = survey_questions(view)
    assert [q.key for q in questions][-1] == OVERALL and len(questions) == 4
    text = survey_text(view, questions)
    assert "1. How easy was it to book? (1 = very unhappy, 5 = very happy)" in text  # Booking: the online booking page, 2/5
    assert "How clear was the invoice?" in text  # Treatment: the invoice, 1/5
    assert "How did you feel during" not in text and "Treatment" not in text


def test_weak_evidence_moves_a_stage_into_the_survey() -> None:
    by_data = [q.key for q in survey_questions(view_of(INSTALLER_BUSINESS_NL))]
    answers = answers_of(INSTALLER_BUSINESS_NL)
    answers["stage.offerte.evidence"] = ok(["gut"])  # the quote stage (4, 5, 2) now rests on gut feeling only
    guessed = [q.key for q in survey_questions(build_view(answers, "nl", 1))]
    assert "offerte" not in by_data and "offerte" in guessed


def test_dutch_questions_and_activities() -> None:
    text = survey_text(view_of(INSTALLER_BUSINESS_NL), survey_questions(view_of(INSTALLER_BUSINESS_NL)))
    assert "Hoe duidelijk was de factuur?" in text and "heel tevreden" in text
    assert activity_of("Taart ophalen op zaterdag") == "pickup"
    assert activity_of("Webinar") is None  # "web" is not the start of every word that begins with it
    assert activity_of("Storing melden bij de servicedesk") == "ask"
