"""Two different businesses get visibly different advice that quotes their own answers."""
from __future__ import annotations

from tests.conftest import TODAY
from bot.coach import build_report
from bot.export import render_markdown
from bot.journey import JourneyView, build_view
from app import Journeys, OwnerKey
from devkit.drive import type_lines
from devkit.scripts import B2B_EN, BAKERY_NL

TALK_EN = "Check the map with customers before you act on it"
TALK_NL = "Toets de kaart bij klanten voordat je iets verandert"


def finished(journeys: Journeys, owner: OwnerKey, script: list[str]):
    type_lines(journeys, owner, script)
    view = journeys.view(owner, journeys.store.current_journey_id(owner))
    return view, build_report(view, TODAY)


def test_bakery_and_consultant_get_their_own_advice(journeys: Journeys):
    bakery, bakery_report = finished(journeys, OwnerKey("terminal", "local", "baker"), BAKERY_NL)
    b2b, b2b_report = finished(journeys, OwnerKey("terminal", "local", "consultant"), B2B_EN)

    assert bakery_report.language == "nl" and b2b_report.language == "en"
    bakery_titles = {i.title for i in bakery_report.improvements}
    b2b_titles = {i.title for i in b2b_report.improvements}
    assert not bakery_titles & b2b_titles
    assert {w.idea for w in bakery_report.wow_moments}.isdisjoint({w.idea for w in b2b_report.wow_moments})

    # the lowest step comes first, quotes the owner's words, and says what to do rather than restating them
    lowest = bakery_report.improvements[0]
    assert "Geen contact na het feest" in lowest.title and lowest.touchpoint.endswith("Geen contact na het feest")
    assert "We horen nooit hoe het feest was" in lowest.trigger
    assert lowest.actions and all(a.do and a.cost and a.ref for a in lowest.actions)
    assert "We horen nooit" not in " ".join(a.do for a in lowest.actions)
    assert any("Proposal takes 3 weeks to arrive" in i.trigger for i in b2b_report.improvements)
    assert any("Registration form asks too much" in i.trigger for i in b2b_report.improvements)
    # every suggestion names the answer that triggered it
    for report in (bakery_report, b2b_report):
        assert all(i.trigger.strip("“”‘’ ") for i in report.improvements)
        assert all(w.trigger.strip("“”‘’ ") for w in report.wow_moments)
        assert len(report.wow_moments) >= 3
        assert len({w.touchpoint for w in report.wow_moments}) == len(report.wow_moments)
    # WOW ideas are tied to the persona's own answers
    bakery_persona = {bakery.fields[k].text for k in ("persona.trigger", "persona.goals", "persona.trust", "persona.pains")}
    assert any(w.trigger.strip("‘’") in bakery_persona for w in bakery_report.wow_moments)

    bakery_md = render_markdown(bakery, bakery_report, today=TODAY.isoformat())
    b2b_md = render_markdown(b2b, b2b_report, today=TODAY.isoformat())
    assert "Feestende Fenna" in bakery_md and "Careful Carl" not in bakery_md
    assert "Careful Carl" in b2b_md and "Fenna" not in b2b_md
    assert lowest.actions[0].do in bakery_md


def test_rules_of_the_method(journeys: Journeys):
    _, bakery = finished(journeys, OwnerKey("terminal", "local", "baker"), BAKERY_NL)
    _, b2b = finished(journeys, OwnerKey("terminal", "local", "consultant"), B2B_EN)
    checks = {c.number: c for c in bakery.mistakes}
    assert len(checks) == 7
    assert checks[1].ok and not checks[2].ok  # talked to customers, no own data
    b2b_checks = {c.number: c for c in b2b.mistakes}
    assert not b2b_checks[1].ok and b2b_checks[2].ok
    assert b2b_checks[6].ok  # marketing, sales and service own steps
    # channel gap: the consultant's persona compares, and no step of the journey is on a comparison site
    assert any("Comparison sites" in i.title for i in b2b.improvements)
    # the ending rule: the consultant's journey ends on a 3/5 quarterly meeting; its pain is a generic report
    ending = next(i for i in b2b.improvements if "Quarterly meeting" in i.touchpoint)
    assert "ends here on 3/5" in ending.why
    # a proposal that takes three weeks is a wait; a form that asks too much is not
    proposal = next(i for i in b2b.improvements if "Written proposal" in i.touchpoint)
    assert proposal.title.startswith("Take the waiting out of")
    form = next(i for i in b2b.improvements if "Registration form" in i.trigger)
    assert not form.title.startswith("Take the waiting out of")
    # Kano: the consultant delights with a free scan while steps score 2/5: the must-have comes first
    assert any("fix this must-have first" in i.why for i in b2b.improvements)
    # the review follows the chosen rhythm: quarterly
    assert b2b.review_date == "2027-02-23" and b2b_checks[7].ok and "23 February 2027" in b2b_checks[7].note
    assert bakery.review_date == "2026-12-23"
    # a dated plan over the next eight weeks, on the persona's channels
    assert len(b2b.calendar) == 8 and all(row.when for row in b2b.calendar)
    assert {row.channel for row in b2b.calendar} <= {"LinkedIn", "E-mail and newsletters", "Comparison sites"}


def test_summary_mid_way_lists_what_is_missing(journeys: Journeys):
    owner = OwnerKey("terminal", "local", "early")
    type_lines(journeys, owner, ["en", "Bakery Bart", "1", "leads"])
    view = journeys.view(owner, journeys.store.current_journey_id(owner))
    report = build_report(view, TODAY)
    assert "Process mapped" in report.missing and "Persona name" in report.missing
    assert report.summary and not report.wow_moments


def with_stage_evidence(view: JourneyView, evidence: dict[str, list[str]]) -> JourneyView:
    """The journey with another evidence for some stages: the interview asks it once for all stages
    (a journey of the first flow, or one corrected later, has it per stage)."""
    answers = dict(view.answers)
    for slug, value in evidence.items():
        assert f"stage.{slug}.evidence" in answers, slug
        answers[f"stage.{slug}.evidence"] = {"v": value, "s": "ok"}
    return build_view(answers, view.lang, view.id)


def test_evidence_shows_and_gut_feeling_puts_customer_talks_first(journeys: Journeys):
    bakery_view, bakery = finished(journeys, OwnerKey("terminal", "local", "baker"), BAKERY_NL)
    b2b_view, b2b = finished(journeys, OwnerKey("terminal", "local", "consultant"), B2B_EN)
    # the consultant's map rests on data and gut feeling: no alarm
    assert not any(i.title == TALK_EN for i in b2b.improvements)
    # the same map with the evidence per stage of the first flow: two stages on gut feeling alone of
    # five parts is no majority, still no alarm
    mixed_view = with_stage_evidence(b2b_view, {"discovery": ["data"], "proposal": ["data", "gut"], "onboarding": ["gut"], "partnership": ["gut"]})
    mixed = build_report(mixed_view, TODAY)
    assert not any(i.title == TALK_EN for i in mixed.improvements)
    guessing = [("gut" if line in ("data", "data, gut") else line) for line in B2B_EN]
    assert guessing.count("gut") == 2  # the persona's sources and the journey's evidence
    _, guessed = finished(journeys, OwnerKey("terminal", "local", "guesser"), guessing)
    assert guessed.improvements[0].title == TALK_EN
    assert all(stage in guessed.improvements[0].why for stage in ("Careful Carl", "Discovery", "Partnership"))
    # the bakery talked to customers for its whole map
    assert not any(i.title == TALK_NL for i in bakery.improvements)
    assert any("Terugkomen 🟢" in p and "Feestende Fenna 🟢" in p for p in bakery.summary)
    # three of its six stages on gut feeling alone: most of the map still rests on customer talks
    three = build_report(with_stage_evidence(bakery_view, {"bestellen": ["gut"], "terugkomen": ["gut"], "aanbevelen": ["gut"]}), TODAY)
    assert not any(i.title == TALK_NL for i in three.improvements)
    assert any("Overweging 🟢" in p and "Terugkomen 🔴" in p for p in three.summary)
    # four of them: the gut feeling is the majority, talk to customers first
    four = build_report(with_stage_evidence(bakery_view, {"overweging": ["gut"], "bestellen": ["gut"], "terugkomen": ["gut"], "aanbevelen": ["gut"]}), TODAY)
    assert four.improvements[0].title == TALK_NL
    markdown = journeys.reports.markdown(b2b_view, b2b).data.decode("utf-8")
    assert "### Stage 1: Discovery\n\n_Evidence: 🟠 Data (analytics, reviews, complaints), Gut feeling_" in markdown
    assert "| Where the persona answers come from | 🟠 Data (analytics, social, customer service) |" in markdown
    markdown = journeys.reports.markdown(mixed_view, mixed).data.decode("utf-8")
    assert "### Stage 1: Discovery\n\n_Evidence: 🟠 Data (analytics, reviews, complaints)_" in markdown
    assert "### Stage 3: Onboarding\n\n_Evidence: 🔴 Gut feeling_" in markdown


def test_costs_are_said_in_the_operators_currency_and_the_owners_language(tmp_path) -> None:
    from app.reports import writer_from_env
    from devkit.coach_cases import view_of
    from devkit.scripts import BAKERY_BUSINESS_NL, PHYSIO_BUSINESS_EN

    def costs(report) -> str:
        return " ".join([a.cost for i in report.improvements for a in i.actions] + [w.cost for w in report.wow_moments])

    euro = costs(build_report(view_of(BAKERY_BUSINESS_NL), TODAY))
    assert "€" in euro and "per maand" in euro and "euro" not in euro.lower()
    pounds = writer_from_env({"JOURNEYBOT_CURRENCY": "gbp"}, lambda: TODAY).report(view_of(PHYSIO_BUSINESS_EN))  # type: ignore[attr-defined]
    assert "£" in costs(pounds) and "€" not in costs(pounds) and "a month" in costs(pounds)
