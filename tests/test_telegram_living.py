"""Living journeys in Telegram: survey answers as a CSV file (and the files refused), to-dos, review,
and reminders sent once, again after a failed send."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from sqlalchemy import update

import prompts
from app import OwnerKey
from handlers.kit.intake import MAX_CSV_BYTES
from store.living import Reminder, SurveyResponse
from devkit.drive import type_lines
from devkit.fakes.telegram_api import FakeTelegram, command, document, visible_text
from devkit.fakes.telegram_fixtures import fake_telegram  # noqa: F401
from devkit.fakes.telegram_harness import TelegramHarness
from devkit.scripts import B2B_EN
from tests.telegram_support import database_url, harness, journeys, make_journeys  # noqa: F401
from tests.telegram_support import texts as texts_of

OWNER = OwnerKey("telegram", "", "4242")


def texts_to(fake: FakeTelegram, chat_id: int = 4242) -> list[str]:
    return [str(c.params.get("text", "")) for c in fake.calls if c.method == "sendMessage" and int(c.params.get("chat_id", 0)) == chat_id]


async def test_survey_csv_file_todo_and_review(harness: TelegramHarness, fake_telegram: FakeTelegram, journeys) -> None:
    await asyncio.to_thread(type_lines, journeys, OWNER, B2B_EN)
    calls = await harness.send(command("survey"))
    survey = next(c for c in calls if c.method == "sendMessage" and "short survey" in str(c.params["text"]))
    assert "1. How did “Webinar” go for you?" in str(survey.params["text"])  # Discovery's lowest step, named as the owner did
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


async def _due_now(journeys) -> None:
    await asyncio.to_thread(
        journeys.store.write, lambda session: session.execute(update(Reminder).values(due_at=datetime.now(timezone.utc) - timedelta(days=2)))
    )


async def test_a_reminder_whose_send_fails_is_released_and_sent_on_the_next_pass(fake_telegram: FakeTelegram, journeys) -> None:
    other = OwnerKey("telegram", "", "4343")
    for owner in (OWNER, other):
        await asyncio.to_thread(type_lines, journeys, owner, B2B_EN)
    await _due_now(journeys)
    bot = TelegramHarness(fake_telegram, journeys, reminder_interval=0)  # passes driven by the test
    await bot.start()
    try:
        assert bot.app is not None
        loop = bot.bot.reminder_loop(bot.app.bot)
        fake_telegram.fail_next("sendMessage", status=403)  # e.g. the first owner blocked the bot for a moment
        assert await loop.once() == 1  # the failure did not stop the pass: the other owner got theirs
        failed = [c for c in fake_telegram.calls if c.method == "sendMessage" and c.status == 403]
        assert len(failed) == 1 and "Time to review" in failed[0].text
        assert await loop.once() == 1  # released, so due again: sent on the next pass
        assert await loop.once() == 0  # and only once
    finally:
        await bot.stop()
    delivered = [c for c in fake_telegram.calls if c.method == "sendMessage" and c.status == 200 and "Time to review" in c.text]
    assert sorted(c.chat_id for c in delivered) == [4242, 4343]


async def test_a_csv_declared_larger_than_the_limit_is_refused_without_a_download(
    harness: TelegramHarness, fake_telegram: FakeTelegram, journeys
) -> None:
    await asyncio.to_thread(type_lines, journeys, OWNER, B2B_EN)
    data = b"Discovery,Proposal,Onboarding,Overall,Comment\n" + b"4,1,2,3,x\n" * 10
    file_id = fake_telegram.add_download(data, "answers.csv")
    calls = await harness.send(document(file_id, "answers.csv", MAX_CSV_BYTES + 1))
    assert [c.method for c in calls] == ["sendMessage"]  # no getFile, nothing fetched
    assert fake_telegram.fetched == []
    assert visible_text(calls[0].text) == prompts.say("en", "telegram", "file.too_large", limit="1 MB")
    assert journeys.store.count_rows(SurveyResponse) == 0


async def test_a_file_larger_than_the_server_said_is_not_read_past_the_limit(
    harness: TelegramHarness, fake_telegram: FakeTelegram, journeys
) -> None:
    await asyncio.to_thread(type_lines, journeys, OWNER, B2B_EN)
    data = b"Discovery,Proposal,Onboarding,Overall,Comment\n" + b"4,1,2,3,x\n" * (MAX_CSV_BYTES // 10 + 10)
    file_id = fake_telegram.add_download(data, "answers.csv", reported_size=100)
    calls = await harness.send(document(file_id, "answers.csv", 100))
    assert "getFile" in [c.method for c in calls]
    said = [visible_text(t) for t in texts_of(calls)]
    assert said == [prompts.say("en", "telegram", "file.too_large", limit="1 MB")]
    assert journeys.store.count_rows(SurveyResponse) == 0


async def test_a_file_that_is_not_csv_gets_a_message_in_the_owners_language(harness: TelegramHarness, fake_telegram: FakeTelegram) -> None:
    file_id = fake_telegram.add_download(b"%PDF-1.4", "offerte.pdf")
    calls = await harness.send(document(file_id, "offerte.pdf", 8, mime_type="application/pdf", language_code="nl"))
    assert [visible_text(t) for t in texts_of(calls)] == [prompts.say("nl", "telegram", "file.not_csv")]
    assert "getFile" not in [c.method for c in calls]


async def test_a_csv_that_is_not_text_is_refused(harness: TelegramHarness, fake_telegram: FakeTelegram, journeys) -> None:
    await asyncio.to_thread(type_lines, journeys, OWNER, B2B_EN)
    data = b"\xff\xfe\x00D\x00i\x00s\xff"
    file_id = fake_telegram.add_download(data, "answers.csv")
    calls = await harness.send(document(file_id, "answers.csv", len(data)))
    assert [visible_text(t) for t in texts_of(calls)] == [prompts.say("en", "telegram", "file.unreadable")]
    assert journeys.store.count_rows(SurveyResponse) == 0
