"""Living journeys: review reminders, versions and changes, the customer check, the to-do list."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from bot.events import Choice, Command, Text
from app import Journeys, OwnerKey
from store.db import database_url
from store.living import JourneyVersion, Reminder, SurveyResponse, Todo
from store.repository import Store
from tests.conftest import TODAY
from devkit.drive import type_lines
from devkit.scripts import B2B_EN, BAKERY_NL

CARL = OwnerKey("terminal", "local", "carl")


def finish(journeys: Journeys, owner: OwnerKey = CARL, script: list[str] = B2B_EN) -> int:
    replies = type_lines(journeys, owner, script)
    assert [r.type for r in replies[-2:]] == ["done", "summary"]
    return journeys.store.current_journey_id(owner)


def test_completion_saves_version_one_and_schedules_the_review(journeys: Journeys):
    journey_id = finish(journeys)
    with journeys.store.sessions() as session:
        versions = session.scalars(select(JourneyVersion).where(JourneyVersion.journey_id == journey_id)).all()
        reminder = session.scalar(select(Reminder).where(Reminder.journey_id == journey_id))
    assert [v.number for v in versions] == [1]
    assert reminder.rhythm == "quarterly" and reminder.channel == "terminal"
    due = reminder.due_at if reminder.due_at.tzinfo else reminder.due_at.replace(tzinfo=timezone.utc)
    assert timedelta(days=89) <= due - datetime.now(timezone.utc) <= timedelta(days=92)  # three calendar months


def test_a_reminder_due_while_the_bot_was_down_is_sent_once(db_url: str):
    url = database_url({"DATABASE_URL": db_url})
    first = Journeys(Store.open(url), today=lambda: TODAY)
    journey_id = finish(first)
    assert first.reminders("terminal") == []  # not due yet
    # the bot was down while the reminder fell due
    with first.store.sessions.begin() as session:
        session.execute(update(Reminder).values(due_at=datetime.now(timezone.utc) - timedelta(days=3)))
    first.close()
    # two processes come back at once and both look for due reminders
    one = Journeys(Store.open(url), today=lambda: TODAY)
    two = Journeys(Store.open(url), today=lambda: TODAY)
    claimed = one.reminders("terminal") + two.reminders("terminal") + one.reminders("terminal")
    assert len(claimed) == 1
    owner, text = claimed[0].owner, claimed[0].text
    assert owner == CARL and "Northwind IT Advisory – Careful Carl" in text and "/review" in text
    assert one.reminders("telegram") == []
    with one.store.sessions() as session:
        reminder = session.scalar(select(Reminder).where(Reminder.journey_id == journey_id))
    assert reminder.last_sent_at is not None
    one.close()
    two.close()


NEW_TOUCHPOINT = {  # what the owner answers about the touchpoint added in the review
    "stage.discovery.tp3.channel": "social",
    "stage.discovery.tp3.feeling": "5",
    "stage.discovery.tp3.pain": "/skip",
    "stage.discovery.pains": "/skip",  # nothing goes wrong at the podcast
    "stage.discovery.tp3.team": "marketing",
}


def answer_until_complete(journeys: Journeys, replies: list, lines: dict[str, str]) -> list[str]:
    """Answer the questions the interview asks until it is complete again; the steps asked."""
    asked: list[str] = []
    while replies[-1].type == "question":
        step = replies[-1].step
        assert step in lines and step not in asked, (step, asked)
        asked.append(step)
        replies = type_lines(journeys, CARL, [lines[step]], start=False)
    assert replies[-1].type == "summary", replies[-1]
    return asked


def pain_step(asked: list[str]) -> str:
    return "stage.discovery.pains" if "stage.discovery.pains" in asked else "stage.discovery.tp3.pain"


def order_of_fields(step: str) -> int:
    return ["channel", "feeling", "pains", "pain", "team"].index(step.rsplit(".", 1)[1])


def test_review_saves_a_second_version_with_a_correct_change_list(journeys: Journeys):
    journey_id = finish(journeys)
    report = asyncio.run(journeys.report(CARL, journey_id))
    first_improvement = next(t for t in report.todos if t.kind == "improvement")
    start = journeys.handle(CARL, Command("review"))
    assert start[-1].step == "review:stage.discovery.touchpoints"
    answers = {
        "stage.discovery.touchpoints": "LinkedIn article, Webinar, Podcast interview",  # one touchpoint added
        "stage.proposal.touchpoints": "Written proposal",  # the sales call is gone
        "stage.proposal.tp1.feeling": "4",  # the written proposal went from 2 to 4
        f"todo:{first_improvement.id}": "done",
    }
    replies = start
    for _ in range(40):
        question = replies[-1]
        if question.type != "question" or not question.step.startswith("review:"):
            break
        item = question.step.split(":", 1)[1]
        if item in answers:
            replies = journeys.handle(CARL, Text(answers[item]))
        else:
            replies = journeys.handle(CARL, Choice("__keep__", question.step))
    # the new touchpoint still needs its channel, feeling, pain and team: the interview asks them,
    # and nothing else (what goes wrong may be asked for the stage, which covers the new touchpoint)
    asked = answer_until_complete(journeys, replies, NEW_TOUCHPOINT)
    assert sorted(asked, key=order_of_fields) == ["stage.discovery.tp3.channel", "stage.discovery.tp3.feeling", pain_step(asked), "stage.discovery.tp3.team"], asked
    view = journeys.view(CARL, journey_id)
    podcast = view.stages[0].touchpoints[2]
    assert (podcast.name, podcast.channel.value, podcast.score, podcast.team.value) == ("Podcast interview", "social", 5, "marketing")
    with journeys.store.sessions() as session:
        numbers = session.scalars(select(JourneyVersion.number).where(JourneyVersion.journey_id == journey_id)).all()
    assert sorted(numbers) == [1, 2]
    report = asyncio.run(journeys.report(CARL, journey_id))
    assert report.changes[0].startswith("Changes since version 1")
    assert "▲ “Written proposal” (Proposal): feeling 2 → 4" in report.changes
    assert "+ new touchpoint “Podcast interview” (Discovery)" in report.changes
    assert "− touchpoint “Sales call” (Proposal) is gone" in report.changes
    assert f"✔ done: {first_improvement.title}" in report.changes
    markdown = asyncio.run(journeys.export(CARL, journey_id)).data.decode("utf-8")
    assert "## What changed" in markdown and "Podcast interview" in markdown


def test_a_touchpoint_added_in_a_review_keeps_the_pain_typed_with_the_ratings(journeys: Journeys):
    journey_id = finish(journeys)
    replies = journeys.handle(CARL, Command("review"))
    replies = journeys.handle(CARL, Text("LinkedIn article, Webinar, Podcast interview"))
    while replies[-1].type == "question" and replies[-1].step.startswith("review:"):
        replies = journeys.handle(CARL, Choice("__keep__", replies[-1].step))
    answer_until_complete(journeys, replies, NEW_TOUCHPOINT)
    webinar = journeys.view(CARL, journey_id).stages[0].touchpoints[1]
    assert (webinar.name, webinar.pain.value) == ("Webinar", "Registration form asks too much")


def test_survey_answers_from_csv_produce_the_comparison(journeys: Journeys):
    journey_id = finish(journeys, OwnerKey("terminal", "local", "baker"), BAKERY_NL)
    baker = OwnerKey("terminal", "local", "baker")
    survey = journeys.handle(baker, Command("survey"))
    text = survey[0].text
    # each stage asked about its lowest step, in a customer's words: Overweging's WhatsApp question (2/5)
    assert "1. Hoe snel kreeg je antwoord op je vraag?" in text and "5. Wat had het voor jou beter gemaakt?" in text
    assert "Overweging" not in text
    keys = survey[0].data["survey"]
    assert keys == ["overweging", "ophalen-en-proeven", "terugkomen", "_overall"]
    bad = journeys.handle(baker, Command("results", "vraag1,vraag2,vraag3,totaal\n4,9,3,4"))
    assert bad[0].type == "error" and "Regel 2" in bad[0].text and "“9”" in bad[0].text
    assert journeys.store.count_rows(SurveyResponse) == 0
    csv_text = "Overweging,Ophalen,Terugkomen,Totaal,Opmerking\n2,1,2,3,Te lang wachten\n1,1,,2,\n3,1,1,3,\"Aardig, maar traag\"\n"
    saved = journeys.handle(baker, Command("results", csv_text))
    assert saved[0].type == "info" and saved[0].data["survey_saved"] == 3
    report = asyncio.run(journeys.report(baker, journey_id))
    checks = {c.stage: c for c in report.customer_check}
    assert checks["Overweging"].customers == 2.0 and checks["Overweging"].owner == 2.5 and checks["Overweging"].responses == 3
    assert checks["Ophalen en proeven"].customers == 1.0
    assert checks["Terugkomen"].responses == 2
    assert checks[""].customers == 2.7
    # customers are less positive than the owner about picking up the cake
    assert any(i.title.startswith("Klanten zijn minder tevreden over ‘Ophalen en proeven’") for i in report.improvements)
    markdown = asyncio.run(journeys.export(baker, journey_id)).data.decode("utf-8")
    assert "Ophalen en proeven" in markdown and "| 2,0 | 1,0 | 3 |" in markdown, markdown  # Dutch decimal comma
    # pasting lines after /results works too
    ask = journeys.handle(baker, Command("results"))
    assert ask[-1].step == "meta.survey"
    more = journeys.handle(baker, Text("5,5,5,5"))
    assert more[0].data["survey_saved"] == 1


def test_todo_state_survives_a_restart(db_url: str):
    url = database_url({"DATABASE_URL": db_url})
    journeys = Journeys(Store.open(url), today=lambda: TODAY)
    journey_id = finish(journeys)
    empty = journeys.handle(CARL, Command("todo"))
    assert empty[0].text.startswith("No to-dos yet")
    asyncio.run(journeys.report(CARL, journey_id))
    listing = journeys.handle(CARL, Command("todo"))
    ids = listing[0].data["todos"]
    assert len(ids) >= 5 and "[open]" in listing[0].text
    done = journeys.handle(CARL, Command("todo", f"{ids[0]} done"))
    assert done[0].text.startswith("Marked") and done[0].text.endswith("as done.")
    journeys.handle(CARL, Command("todo", f"{ids[1]} gepland"))
    bad = journeys.handle(CARL, Command("todo", f"{ids[1]} someday"))
    assert bad[0].type == "error"
    other = OwnerKey("terminal", "local", "mallory")
    type_lines(journeys, other, ["en", "Mallory's"])
    assert journeys.handle(other, Command("todo", f"{ids[2]} dropped"))[0].type == "error"
    journeys.close()

    restarted = Journeys(Store.open(url), today=lambda: TODAY)
    with restarted.store.sessions() as session:
        statuses = {t.id: t.status for t in session.scalars(select(Todo))}
    assert statuses[ids[0]] == "done" and statuses[ids[1]] == "planned" and statuses[ids[2]] == "open"
    listing = restarted.handle(CARL, Command("todo"))
    assert "[done]" in listing[0].text and "[planned]" in listing[0].text
    # the next review asks about the open and planned ones, not the done one
    review = restarted.handle(CARL, Command("review"))
    items = []
    replies = review
    for _ in range(60):
        question = replies[-1]
        if question.type != "question" or not question.step.startswith("review:"):
            break
        items.append(question.step)
        replies = restarted.handle(CARL, Choice("__keep__", question.step))
    assert f"review:todo:{ids[1]}" in items and f"review:todo:{ids[0]}" not in items
    restarted.close()
