"""Edited messages and /edit through the real python-telegram-bot stack against the fake Bot API."""
from __future__ import annotations

import time
from typing import Any

from app import OwnerKey
from devkit.fakes.telegram_api import FakeTelegram, command, private_text, visible_text
from devkit.fakes.telegram_fixtures import fake_telegram  # noqa: F401
from devkit.fakes.telegram_harness import TelegramHarness
from handlers.telegram.app import ALLOWED_UPDATES
from tests.telegram_support import answers, database_url, harness, journeys, questions, step_of, tap, texts  # noqa: F401

OWNER = OwnerKey("telegram", "", "4242")


def edited(update: dict[str, Any], text: str) -> dict[str, Any]:
    """The update Telegram sends when the owner edits the message of `update`."""
    return {"edited_message": {**update["message"], "text": text, "edit_date": int(time.time())}}


def test_edited_messages_are_asked_for():
    assert "edited_message" in ALLOWED_UPDATES


async def test_an_edited_last_answer_changes_it_and_an_older_one_gets_a_hint(
    harness: TelegramHarness, fake_telegram: FakeTelegram
) -> None:
    await harness.send(command("start"))
    name = private_text("Bakery Bart")
    calls = await harness.send(name)
    assert step_of(questions(calls)[-1]) == "business.sector"

    calls = await harness.send(edited(name, "Bakery Bert"))
    assert answers(harness.journeys, OWNER)["business.name"]["v"] == "Bakery Bert"
    sent = [visible_text(t) for t in texts(calls)]
    assert any("Changed “Business name” to: Bakery Bert" in t for t in sent), sent
    q = questions(calls)[-1]
    assert step_of(q) == "business.sector" and "Bakery Bert" in visible_text(q.text), "the owner stays at the open question"

    calls = await harness.send(tap(q, "bakery"))
    assert step_of(questions(calls)[-1]) == "journey.goal"

    # An older message edited: a hint, nothing changed, and never the answer to the open question.
    calls = await harness.send(edited(name, "leads"))
    sent = [visible_text(t) for t in texts(calls)]
    assert len(sent) == 1 and "/edit" in sent[0], sent
    stored = answers(harness.journeys, OWNER)
    assert stored["business.name"]["v"] == "Bakery Bert" and "journey.goal" not in stored


async def test_edit_lists_and_re_asks_and_a_dutch_hint(harness: TelegramHarness, fake_telegram: FakeTelegram) -> None:
    await harness.send(command("start", language_code="nl"))
    name = private_text("Bakkerij Bart", language_code="nl")
    await harness.send(name)
    await harness.send(private_text("1", language_code="nl"))
    calls = await harness.send(command("wijzig", language_code="nl"))
    listing = visible_text(texts(calls)[0])
    assert "1. Naam van het bedrijf: Bakkerij Bart" in listing and "2. Soort bedrijf: Bakkerij of café" in listing
    calls = await harness.send(command("wijzig", "1", language_code="nl"))
    assert step_of(questions(calls)[-1]) == "business.name"
    calls = await harness.send(private_text("Bakkerij Bert", language_code="nl"))
    assert step_of(questions(calls)[-1]) == "journey.goal", "back where the owner was"
    calls = await harness.send(edited(name, "Bakkerij Bort"))
    sent = [visible_text(t) for t in texts(calls)]
    assert len(sent) == 1 and "/wijzig" in sent[0], sent
    assert answers(harness.journeys, OWNER)["business.name"]["v"] == "Bakkerij Bert"
