"""Shared pieces of the Telegram end-to-end tests: the application layer on a temporary SQLite file, the driver."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import pytest
import pytest_asyncio

from app import Journeys, OwnerKey
from store.repository import Store
from devkit.fakes.telegram_api import Call, FakeTelegram, callback
from devkit.fakes.telegram_harness import TelegramHarness

TODAY = date(2026, 11, 23)


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'journeybot.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("JOURNEYBOT_LLM", "off")
    return url


def make_journeys(url: str) -> Journeys:
    return Journeys(Store.open(url), today=lambda: TODAY)


@pytest.fixture
def journeys(database_url: str) -> Iterator[Journeys]:
    app = make_journeys(database_url)
    yield app
    app.close()


@pytest_asyncio.fixture
async def harness(fake_telegram: FakeTelegram, journeys: Journeys) -> AsyncIterator[TelegramHarness]:
    bot = TelegramHarness(fake_telegram, journeys)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


def answers(journeys: Journeys, owner: OwnerKey) -> dict[str, Any]:
    """The stored answers of the owner's current journey ({} when there is none)."""
    journey_id = journeys.current_journey_id(owner)
    return dict(journeys.view(owner, journey_id).answers) if journey_id else {}


def questions(calls: list[Call]) -> list[Call]:
    """sendMessage calls that carry buttons (every engine question has at least one)."""
    return [c for c in calls if c.method == "sendMessage" and c.buttons()]


def step_of(call: Call) -> str:
    return call.buttons()[0]["callback_data"].split("|")[1]


def button(call: Call, value: str) -> str:
    for b in call.buttons():
        if b["callback_data"].split("|", 2)[2] == value:
            return b["callback_data"]
    raise AssertionError(f"no button {value!r} in {[b['callback_data'] for b in call.buttons()]}")


def tap(call: Call, value: str, **kw: Any) -> dict[str, Any]:
    """A callback update for the button `value` on the message `call` sent."""
    return callback(button(call, value), call.result, **kw)


def texts(calls: list[Call], method: str = "sendMessage") -> list[str]:
    return [c.text for c in calls if c.method == method]
