"""A whole interview through the real python-telegram-bot stack against the fake Bot API."""
from __future__ import annotations

import pytest

from tests.fakes.telegram_api import FakeTelegram, command, private_text, visible_text
from tests.fakes.telegram_fixtures import fake_telegram  # noqa: F401
from tests.fakes.telegram_harness import TelegramHarness
from tests.telegram_support import database_url, harness, questions, service, step_of, tap, texts  # noqa: F401


async def test_start_asks_the_first_question_in_the_users_language(harness: TelegramHarness, fake_telegram: FakeTelegram) -> None:
    calls = await harness.send(command("start", language_code="nl"))
    sent = texts(calls)
    assert sent, calls
    q = questions(calls)[-1]
    assert step_of(q) == "business.name"
    assert "bedrijf" in visible_text(q.text)
    assert q.params["parse_mode"] == "HTML"
