"""One contract, every channel: scripted interviews, the commands, summaries, exports and /forget.

Written once against the small driver interface in drivers.py and run against the test channel, the
terminal (JSONL), Telegram (fake Bot API, real python-telegram-bot) and Slack (fake Web API, real
slack-bolt). A behaviour missing on a channel fails with the channel's name in the test id.
"""
from __future__ import annotations

import pytest

from devkit.scripts import B2B_EN, BAKERY_NL
from tests.contract.drivers import Driver, Turn

pytestmark = pytest.mark.timeout(240)

SURVEY_CSV = "Discovery,Proposal,Onboarding,Overall\n4,1,2,3\n"


async def begin(driver: Driver, lang: str) -> Turn:
    first = await driver.start()
    assert first.question is not None and set(first.question.choices) >= {"en", "nl"}, first
    turn = await driver.tap(lang)
    assert turn.question is not None, turn
    return turn


async def interview_turns(driver: Driver, script: list[str]) -> list[Turn]:
    """Pick the script's language, type every other line (a stage's ratings as one typed line, as every
    channel takes them); the turn of every line."""
    turns = [await begin(driver, script[0])]
    for line in script[1:]:
        turn = await driver.say(line)
        assert not turn.errors, (line, turn)
        assert turn.items, f"no reply to {line!r}"
        turns.append(turn)
    return turns


async def interview(driver: Driver, script: list[str]) -> Turn:
    """The whole scripted interview; the last line's turn."""
    return (await interview_turns(driver, script))[-1]


def assert_map_shown_once(turns: list[Turn]) -> None:
    """Once every stage is rated, the map (a text and the emotion curve) comes before the last questions."""
    shown = [n for n, t in enumerate(turns[:-1]) if t.images]
    assert len(shown) == 1, f"the map is shown once before the summary, not in turns {shown}"
    at = turns[shown[0]]
    assert at.images[-1].data[:4] == b"\x89PNG" and at.of("text") and not at.errors, at
    before = turns[shown[0] - 1].question
    assert before is not None and (before.step or "").endswith(".ratings"), ("the map answers the last stage's ratings", before)
    assert at.question is not None, "the interview carries on after the map"
    last = [t.question.step for t in turns[shown[0] + 1:] if t.question is not None]
    assert "journey.evidence" in last and "journey.review" in last, last


def assert_summary(turn: Turn, *, title: str) -> None:
    assert turn.reports, f"no summary report: {turn}"
    assert turn.markdown, f"no markdown file with the summary: {turn}"
    assert title in turn.markdown[-1].data.decode("utf-8")
    assert turn.images and turn.images[-1].data[:4] == b"\x89PNG", f"no chart picture: {turn}"


async def test_complete_english_interview(driver: Driver):
    turns = await interview_turns(driver, B2B_EN)
    assert_map_shown_once(turns)
    end = turns[-1]
    assert any(i.tone in ("done", None) and i.kind == "text" for i in end.items), end
    assert_summary(end, title="Northwind IT Advisory")
    export = await driver.say("/export")
    assert export.markdown, export
    markdown = export.markdown[-1].data.decode("utf-8")
    assert "Careful Carl" in markdown and "Proposal takes 3 weeks to arrive" in markdown


async def test_complete_dutch_interview(driver: Driver):
    turns = await interview_turns(driver, BAKERY_NL)
    assert_map_shown_once(turns)
    end = turns[-1]
    assert_summary(end, title="Bakkerij De Korenschoof")
    # the report names the persona (a channel may split a long report over several messages)
    assert "Feestende Fenna" in "\n".join(r.text for r in end.reports), end.reports
    export = await driver.say("/export")
    markdown = export.markdown[-1].data.decode("utf-8")
    assert "# Klantreis: Bakkerij De Korenschoof – Feestende Fenna" in markdown
    assert "Rij van twintig minuten op zaterdag" in markdown


async def test_back_skip_status_language(driver: Driver):
    await begin(driver, "en")
    turn = await driver.say("Northwind IT Advisory")
    assert "What kind of business is Northwind IT Advisory" in turn.question.text, turn
    back = await driver.say("/back")
    assert "Current answer: Northwind IT Advisory" in back.question.text, back
    await driver.say("Northwind IT")
    skip = await driver.say("/skip")
    assert "can't be skipped" in skip.text, skip
    assert "What kind of business is Northwind IT?" in skip.question.text
    status = await driver.say("/status")
    assert "1 of 35 questions answered" in status.text, status
    nl = await driver.say("/language nl")
    assert "Vanaf nu spreken we Nederlands" in nl.text and "Wat voor bedrijf is Northwind IT" in nl.question.text, nl
    en = await driver.say("/language en")
    assert "From now on we speak English" in en.text, en
    tapped = await driver.tap("b2b")
    assert tapped.question is not None and "goal" in tapped.question.text.lower() or tapped.question.step == "journey.goal", tapped


async def test_an_error_is_shown_as_an_error(driver: Driver):
    """A refused answer must look different from an ordinary message (a colour, a sign, a type)."""
    await begin(driver, "en")
    await driver.say("Northwind IT")
    skip = await driver.say("/skip")
    refused = [i for i in skip.items if "can't be skipped" in i.text]
    assert refused and refused[0].tone == "error", f"{driver.name} shows a refusal like any other text: {refused}"


async def test_summary_and_export_midway(driver: Driver):
    await begin(driver, "en")
    await driver.say("Northwind IT")
    summary = await driver.say("/summary")
    assert_summary(summary, title="Northwind IT")
    assert "What kind of business is Northwind IT?" in summary.question.text, "the interview carries on after a summary"
    export = await driver.say("/export")
    assert export.markdown and "Northwind IT" in export.markdown[-1].data.decode("utf-8"), export


async def test_new_list_open(driver: Driver):
    await begin(driver, "en")
    await driver.say("Northwind IT")
    new = await driver.say("/new")
    assert "A new journey has started" in new.text and "name of your business" in new.question.text, new
    await driver.say("Second Shop")
    listed = await driver.say("/list")
    assert "1. Northwind IT" in listed.text and "2. Second Shop" in listed.text, listed
    opened = await driver.say("/open 1")
    assert 'Switched to "Northwind IT"' in opened.text and "What kind of business is Northwind IT?" in opened.question.text, opened


async def test_living_journey_commands(driver: Driver):
    await interview(driver, B2B_EN)
    todo = await driver.say("/todo")
    assert "Your to-do list" in todo.text and "[open]" in todo.text, todo
    survey = await driver.say("/survey")
    assert "A short survey" in survey.text, survey
    saved = await driver.results(SURVEY_CSV)
    assert "Saved 1 customer answer." in saved.text, saved
    review = await driver.say("/review")
    assert "still true" in review.text.lower() and review.question is not None, review
    kept = await driver.tap("__keep__")
    assert kept.question is not None and "LinkedIn article" in kept.question.text, kept


async def test_forget(driver: Driver):
    await begin(driver, "en")
    await driver.say("Northwind IT")
    ask = await driver.say("/forget")
    assert ask.question is not None and "Are you sure?" in ask.question.text, ask
    gone = await driver.tap("yes")
    assert "everything stored about you has been deleted" in gone.text, gone
    again = await driver.say("hello")
    # a fresh start: the language question, or (where the channel knows the language) the first question
    assert again.question is not None, again
    assert set(again.question.choices) >= {"en", "nl"} or "name of your business" in again.question.text, again
    assert "Current answer" not in again.text and "Northwind" not in again.text, "after /forget the owner starts afresh"
    listed = await driver.say("/list")
    assert "Northwind" not in listed.text, listed
