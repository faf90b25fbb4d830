"""Living journeys in Telegram: survey answers as a CSV file, to-dos, review, and reminders sent once."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from app import OwnerKey
from store.living import Reminder
from devkit.drive import type_lines
from devkit.fakes.telegram_api import FakeTelegram, command, document
from devkit.fakes.telegram_fixtures import fake_telegram  # noqa: F401
from devkit.fakes.telegram_harness import TelegramHarness
from devkit.scripts import B2B_EN
from tests.telegram_support import database_url, harness, journeys, make_journeys  # noqa: F401

OWNER = OwnerKey("telegram", "", "4242")


def texts_to(fake: FakeTelegram, chat_id: int = 4242) -> list[str]:
    return [str(c.params.get("text", "")) for c in fake.calls if c.method == "sendMessage" and int(c.params.get("chat_id", 0)) == chat_id]


async def test_survey_csv_file_todo_and_review(harness: TelegramHarness, fake_telegram: FakeTelegram, journeys) -> None:
    await asyncio.to_thread(type_lines, journeys, OWNER, B2B_EN)
    calls = await harness.send(command("survey"))
    survey = next(c for c in calls if c.method == "sendMessage" and "short survey" in str(c.params["text"]))
    assert "1. How did you feel during" in str(survey.params["text"])
    data = b"Discovery,Proposal,Onboarding,Overall,Comment\n4,1,2,3,Slow proposal\n5,2,2,4,\n"
    file_id = fake_telegram.add_download(data, "answers.csv")
    calls = await harness.send(document(file_id, "answers.csv", len(data)))
    assert any("Saved 2 customer answers" in str(c.params.get("text", "")) for c in calls if c.method == "sendMessage")
    report = await journeys.report(OWNER, journeys.current_journey_id(OWNER))
    assert {c.stage: c.responses for c in report.customer_check}["Proposal"] == 2

    calls = await harness.send(command("todo"))
    listing = next(c for c in calls if c.method == "sendMessage" and "to-do list" in str(c.params["text"]))
    first = report.todos[0].id
    calls = await harness.send(command("todo", f"{first} done"))
    assert any("as done" in str(c.params.get("text", "")) for c in calls)
    assert listing

    calls = await harness.send(command("review"))
    assert any("still true" in str(c.params.get("text", "")) for c in calls if c.method == "sendMessage")


async def test_a_reminder_due_during_downtime_is_sent_once_by_two_bots(fake_telegram: FakeTelegram, database_url: str) -> None:  # noqa: F811
    setup = make_journeys(database_url)
    await asyncio.to_thread(type_lines, setup, OWNER, B2B_EN)
    setup.store.write(lambda session: session.execute(update(Reminder).values(due_at=datetime.now(timezone.utc) - timedelta(days=2))))
    setup.close()
    one, two = make_journeys(database_url), make_journeys(database_url)
    bots = [TelegramHarness(fake_telegram, one, reminder_interval=0.1), TelegramHarness(fake_telegram, two, reminder_interval=0.1)]
    await asyncio.gather(*(bot.start() for bot in bots))
    try:
        for _ in range(50):
            if any("Time to review" in t for t in texts_to(fake_telegram)):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # several more rounds of both bots
    finally:
        await asyncio.gather(*(bot.stop() for bot in bots))
        one.close()
        two.close()
    reminders = [t for t in texts_to(fake_telegram) if "Time to review" in t]
    assert len(reminders) == 1 and "Northwind IT Advisory" in reminders[0] and "/review" in reminders[0]
