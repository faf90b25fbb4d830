"""Updates per second and CPU per update through the real Telegram adapter, next to a bare
python-telegram-bot echo bot.

    .venv/bin/python -m bench.telegram_throughput

The fake Bot API server (devkit/fakes/telegram_api.py) runs in a process of its own
(bench/fake_telegram_process.py), so the bot's process does only the bot's work: its CPU time
(user + system, all threads) divided by the updates handled is the CPU per update. Both bots use
long polling with a timeout of 1 s, as a real deployment would (a timeout of 0 makes a bot spin
on getUpdates). USERS owners each send /start and then the B2B interview's lines; all updates are
queued before polling starts. journeybot runs the engine and one database transaction per update
(SQLite, a fresh file) and sends its replies with inline keyboards; the echo bot sends the text
back. Timing runs from the first update handled to the last.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from typing import Any, Iterator

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, TypeHandler, filters

from bench.common import ROOT, database

USERS = 50
POLL_TIMEOUT = 1.0  # seconds; Bot API long polling takes whole seconds


@contextmanager
def fake_server(users: int, lines: int) -> Iterator[str]:
    """The fake Bot API in its own process, with the updates queued; yields its URL."""
    proc = subprocess.Popen([sys.executable, "-m", "bench.fake_telegram_process", str(users), str(lines)], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError("the fake Bot API did not start")
        yield url
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _settings(url: str):  # type: ignore[no-untyped-def]
    from handlers.telegram.app import TelegramSettings

    from devkit.fakes.telegram_api import DEFAULT_TOKEN

    return TelegramSettings(token=DEFAULT_TOKEN, api_url=url, poll_timeout=POLL_TIMEOUT, reminder_interval=0)


async def _measure(app: Any, settings: Any, expected: int) -> dict[str, float]:
    from handlers.telegram.app import start, stop

    handled = {"n": 0, "first": 0.0, "last": 0.0}
    done = asyncio.Event()

    async def count(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        now = time.perf_counter()
        handled["n"] += 1
        if handled["n"] == 1:
            handled["first"] = now
        handled["last"] = now
        if handled["n"] >= expected:
            done.set()

    app.add_handler(TypeHandler(Update, count), group=99)
    cpu0 = os.times()
    started = time.perf_counter()
    await start(app, settings)
    await asyncio.wait_for(done.wait(), timeout=600)
    cpu1 = os.times()
    await stop(app)
    elapsed = handled["last"] - (handled["first"] or started)
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    return {"rate": expected / max(elapsed, 1e-9), "cpu_per_update": cpu / expected, "updates": expected}


async def journeybot_rate(users: int, lines: int, *, flood_limit: bool = False) -> dict[str, float]:
    """The adapter as built by `journeybot telegram`. Its AIORateLimiter keeps to Telegram's flood
    limit of 30 messages per second overall, which caps any bot that answers every update at about
    30 updates/s; `flood_limit=False` takes the limiter out to measure the bot's own work."""
    from app import Journeys
    from handlers.telegram.app import TelegramBot
    from store.db import database_url
    from store.repository import Store

    with fake_server(users, lines) as url, database("sqlite") as db:
        journeys = Journeys(Store.open(database_url({"DATABASE_URL": db}), pool_size=16))
        try:
            settings = _settings(url)
            app = TelegramBot(journeys, settings).build()
            if not flood_limit:
                app.bot._rate_limiter = None  # benchmark only: see the docstring
            return await _measure(app, settings, users * lines)
        finally:
            journeys.close()


async def echo_rate(users: int, lines: int) -> dict[str, float]:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await context.bot.send_message(update.effective_chat.id, update.effective_message.text)

    with fake_server(users, lines) as url:
        settings = _settings(url)
        app = ApplicationBuilder().token(settings.token).base_url(f"{url}/bot{{token}}").concurrent_updates(16).build()
        app.add_handler(MessageHandler(filters.TEXT, echo))
        return await _measure(app, settings, users * lines)


def run(users: int = USERS, lines: int = 20) -> dict[str, Any]:
    echo = asyncio.run(echo_rate(users, lines))
    bot = asyncio.run(journeybot_rate(users, lines))
    limited = asyncio.run(journeybot_rate(20, 10, flood_limit=True))
    result = {"updates": users * lines, "journeybot": bot["rate"], "echo": echo["rate"], "ratio": bot["rate"] / echo["rate"],
              "flood_limited": limited["rate"], "journeybot_cpu": bot["cpu_per_update"], "echo_cpu": echo["cpu_per_update"],
              "poll_timeout": POLL_TIMEOUT}
    print(f"  telegram: journeybot {bot['rate']:.0f} updates/s, {bot['cpu_per_update'] * 1000:.2f} ms CPU/update; "
          f"echo {echo['rate']:.0f} updates/s, {echo['cpu_per_update'] * 1000:.2f} ms CPU/update; ratio {result['ratio']:.2f}; "
          f"with the flood limiter {limited['rate']:.0f} updates/s", flush=True)
    return result


if __name__ == "__main__":
    print(run())
