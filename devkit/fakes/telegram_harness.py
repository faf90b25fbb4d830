"""Runs the real Telegram adapter (PTB Application + updater) against FakeTelegram in the test's loop.

    bot = TelegramHarness(fake, journeys)     # journeys: an app.Journeys
    await bot.start()                     # initialize, setMyCommands, start polling
    calls = await bot.send(private_text("hi"))   # push an update, wait until it is fully handled
    await bot.stop()
"""
from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from app import Journeys
from handlers.telegram.app import TelegramBot, TelegramSettings, start, stop
from devkit.fakes.telegram_api import Call, FakeTelegram

DONE_GROUP = 99  # runs after the adapter's handlers (group 0) have finished with an update


class TelegramHarness:
    def __init__(self, fake: FakeTelegram, journeys: Journeys, **settings: Any) -> None:
        self.fake = fake
        self.journeys = journeys
        base = TelegramSettings(token=fake.token, api_url=fake.url, max_retries=3, poll_timeout=1.0)
        self.settings = replace(base, **settings)
        self.bot = TelegramBot(journeys, self.settings)
        self.app: Application | None = None
        self.handled: dict[int, asyncio.Event] = {}

    def _event(self, update_id: int) -> asyncio.Event:
        return self.handled.setdefault(update_id, asyncio.Event())

    async def _mark_done(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        self._event(update.update_id).set()

    def build(self) -> Application:
        app = self.bot.build()
        app.add_handler(TypeHandler(Update, self._mark_done), group=DONE_GROUP)
        self.app = app
        return app

    async def start(self) -> "TelegramHarness":
        """Start like `journeybot telegram` would: long polling, or the webhook server when configured."""
        await start(self.build(), self.settings)
        return self

    async def stop(self) -> None:
        if self.app is not None:
            await stop(self.app)
            self.app = None

    async def __aenter__(self) -> "TelegramHarness":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def send(self, update: dict[str, Any], timeout: float = 5.0) -> list[Call]:
        """Push one update and wait until the adapter has handled it; the API calls it caused."""
        mark = self.fake.mark()
        update_id = self.fake.push(update)
        await self.wait_handled(update_id, timeout)
        return [c for c in self.fake.calls[mark:] if c.method != "getUpdates"]

    async def wait_handled(self, update_id: int, timeout: float = 5.0) -> None:
        try:
            await asyncio.wait_for(self._event(update_id).wait(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"update {update_id} was not handled within {timeout}s") from None
