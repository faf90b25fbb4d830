"""Updates per second through the real Telegram adapter, next to a bare python-telegram-bot echo bot.

Both run in this process with long polling against the fake Bot API server (tests/fakes) on
loopback, which runs in a thread of the same process (so both share one CPU with it; the
ratio is what to read). USERS owners each send /start and then the B2B interview's lines; all
updates are queued before polling starts. journeybot runs the engine and one database
transaction per update (SQLite, a fresh file) and sends its replies with inline keyboards; the
echo bot sends the text back. Timing runs from the first update handled to the last.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, TypeHandler, filters

from bench.common import database
from handlers.service import JourneyService
from handlers.telegram.app import TelegramBot, TelegramSettings, start, stop
from store.db import database_url
from store.repository import Repository
from devkit.fakes.telegram_api import FakeTelegram, command, private_text
from devkit.scripts import B2B_EN

USERS = 50


def updates(users: int, lines: int) -> list[dict[str, Any]]:
    out = []
    for n in range(lines):
        for user in range(users):
            uid = 100000 + user
            out.append(command("start", user_id=uid) if n == 0 else private_text(B2B_EN[n], user_id=uid))
    return out


async def _measure(fake: FakeTelegram, app: Any, settings: TelegramSettings, batch: list[dict[str, Any]]) -> float:
    handled = {"n": 0, "first": 0.0, "last": 0.0}
    done = asyncio.Event()

    async def count(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        now = time.perf_counter()
        handled["n"] += 1
        if handled["n"] == 1:
            handled["first"] = now
        handled["last"] = now
        if handled["n"] >= len(batch):
            done.set()

    app.add_handler(TypeHandler(Update, count), group=99)
    for update in batch:
        fake.call_soon(fake.push, update)
    await asyncio.sleep(0.2)
    started = time.perf_counter()
    await start(app, settings)
    await asyncio.wait_for(done.wait(), timeout=600)
    await stop(app)
    elapsed = handled["last"] - (handled["first"] or started)
    return len(batch) / max(elapsed, 1e-9)


async def journeybot_rate(users: int, lines: int, *, flood_limit: bool = False) -> float:
    """The adapter as built by `journeybot telegram`. Its AIORateLimiter keeps to Telegram's flood
    limit of 30 messages per second overall, which caps any bot that answers every update at about
    30 updates/s; `flood_limit=False` takes the limiter out to measure the bot's own work."""
    fake = FakeTelegram.run_in_thread()
    try:
        with database("sqlite") as url:
            service = JourneyService(Repository.open(database_url({"DATABASE_URL": url}), pool_size=16))
            settings = TelegramSettings(token=fake.token, api_url=fake.url, poll_timeout=0.5)
            app = TelegramBot(service, settings).build()
            if not flood_limit:
                app.bot._rate_limiter = None  # benchmark only: see the docstring
            rate = await _measure(fake, app, settings, updates(users, lines))
            service.close()
            return rate
    finally:
        fake.shutdown()


async def echo_rate(users: int, lines: int) -> float:
    fake = FakeTelegram.run_in_thread()
    try:
        async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            await context.bot.send_message(update.effective_chat.id, update.effective_message.text)

        app = (
            ApplicationBuilder()
            .token(fake.token)
            .base_url(f"{fake.url}/bot{{token}}")
            .concurrent_updates(16)
            .build()
        )
        app.add_handler(MessageHandler(filters.TEXT, echo))
        settings = TelegramSettings(token=fake.token, api_url=fake.url, poll_timeout=0.5)
        return await _measure(fake, app, settings, updates(users, lines))
    finally:
        fake.shutdown()


def run(users: int = USERS, lines: int = 20) -> dict[str, float]:
    echo = asyncio.run(echo_rate(users, lines))
    bot = asyncio.run(journeybot_rate(users, lines))
    limited = asyncio.run(journeybot_rate(20, 10, flood_limit=True))
    result = {"updates": users * lines, "journeybot": bot, "echo": echo, "ratio": bot / echo, "flood_limited": limited}
    print(f"  telegram: journeybot {bot:.0f} updates/s, echo {echo:.0f} updates/s, ratio {bot / echo:.2f}; "
          f"with the flood limiter {limited:.0f} updates/s", flush=True)
    return result


if __name__ == "__main__":
    print(run())
