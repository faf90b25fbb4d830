"""Webhook mode: the secret header is checked on every request, before the body is read, and bodies are
capped at 1 MB; settings from the environment."""
from __future__ import annotations

import asyncio
import gc
import json
import os
import socket
import threading
import time
from typing import Any

import aiohttp
import pytest

import prompts
from handlers.telegram.app import SettingsError, TelegramSettings, build_application
from devkit.fakes.telegram_api import FakeTelegram, command, visible_text
from devkit.fakes.telegram_fixtures import fake_telegram  # noqa: F401
from devkit.fakes.telegram_harness import TelegramHarness
from tests.telegram_support import database_url, journeys, texts  # noqa: F401

SECRET = "s3cr3t_Token-42"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_secret_right_wrong_missing(fake_telegram: FakeTelegram, journeys) -> None:
    port = free_port()
    bot = TelegramHarness(
        fake_telegram,
        journeys,
        webhook_url="https://bot.example.test/tg/hook",
        webhook_secret=SECRET,
        listen="127.0.0.1",
        port=port,
    )
    await bot.start()
    try:
        assert fake_telegram.webhook == {"url": "https://bot.example.test/tg/hook", "secret_token": SECRET}
        assert not fake_telegram.calls_of("getUpdates")  # no polling in webhook mode
        url = f"http://127.0.0.1:{port}/tg/hook"

        async def post(update_id: int, headers: dict[str, str]) -> int:
            update = dict(command("start"), update_id=update_id)
            async with aiohttp.ClientSession() as http:
                async with http.post(
                    url, data=json.dumps(update), headers={"Content-Type": "application/json", **headers}
                ) as resp:
                    return resp.status

        mark = fake_telegram.mark()
        assert await post(1, {}) == 403
        assert await post(2, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}) == 403
        assert await post(3, {"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"}) == 403
        assert await post(4, {"X-Telegram-Bot-Api-Secret-Token": SECRET}) == 200
        await bot.wait_handled(4)
        assert 1 not in bot.handled and 2 not in bot.handled and 3 not in bot.handled
        sent = [visible_text(t) for t in texts(fake_telegram.calls[mark:])]
        assert sent[0] == prompts.say("en", "messages", "welcome")
        assert sent.count(sent[0]) == 1
    finally:
        await bot.stop()


def test_settings_from_environment() -> None:
    with pytest.raises(SettingsError):
        TelegramSettings.from_env({})
    s = TelegramSettings.from_env({"TELEGRAM_BOT_TOKEN": "1:abc", "TELEGRAM_API_URL": "http://127.0.0.1:8081/"})
    assert s.api_url == "http://127.0.0.1:8081" and s.webhook_url is None
    assert (s.listen, s.port) == ("0.0.0.0", 8443)
    env = {
        "TELEGRAM_BOT_TOKEN": "1:abc",
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.test/telegram/abc",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
        "TELEGRAM_WEBHOOK_PORT": "9000",
    }
    s = TelegramSettings.from_env(env)
    assert (s.listen, s.port, s.url_path, s.webhook_secret) == ("127.0.0.1", 9000, "telegram/abc", SECRET)
    assert TelegramSettings.from_env({**env, "TELEGRAM_WEBHOOK_PATH": "/hook/"}).url_path == "hook"
    with pytest.raises(SettingsError, match="SECRET"):
        TelegramSettings.from_env({k: v for k, v in env.items() if k != "TELEGRAM_WEBHOOK_SECRET"})
    with pytest.raises(SettingsError):
        TelegramSettings.from_env({**env, "TELEGRAM_WEBHOOK_SECRET": "no spaces allowed"})
    with pytest.raises(SettingsError):
        TelegramSettings.from_env({**env, "TELEGRAM_WEBHOOK_PORT": "eighty"})


def test_api_url_points_the_bot_at_a_local_bot_api_server(journeys) -> None:
    app = build_application(journeys, TelegramSettings(token="1:abc", api_url="http://127.0.0.1:8081"))
    assert app.bot.base_url == "http://127.0.0.1:8081/bot1:abc"
    assert app.bot.base_file_url == "http://127.0.0.1:8081/file/bot1:abc"
    default = build_application(journeys, TelegramSettings(token="1:abc"))
    assert default.bot.base_url == "https://api.telegram.org/bot1:abc"


def test_main_refuses_a_webhook_without_secret(capsys, journeys) -> None:
    from handlers.telegram.app import main

    code = main(journeys, {"TELEGRAM_BOT_TOKEN": "1:abc", "TELEGRAM_WEBHOOK_URL": "https://x.example/hook"})
    assert code == 2
    assert "TELEGRAM_WEBHOOK_SECRET" in capsys.readouterr().err


def test_both_languages_have_the_same_telegram_texts() -> None:
    def keys(node, prefix=""):
        if isinstance(node, dict):
            return {k for key, v in node.items() for k in keys(v, f"{prefix}{key}.")}
        return {prefix}

    assert keys(prompts.load("nl", "telegram")) == keys(prompts.load("en", "telegram"))
    assert keys(prompts.load("nl", "chart")) == keys(prompts.load("en", "chart"))


# ---------------------------------------------------------------------------- cheap rejection
HOOK = "https://bot.example.test/tg/hook"
BIG = 90 * 1024 * 1024


class PeakRss:
    """The process's resident set size, sampled every few milliseconds in a thread: the peak growth
    over the size when sampling began."""

    def __init__(self) -> None:
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.base = self.now()
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def now(self) -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * self.page

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(0.002)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.now())

    @property
    def growth(self) -> int:
        return self.peak - self.base


async def _chunks(total: int, size: int = 1024 * 1024) -> Any:
    chunk = b"x" * size
    for _ in range(total // size):
        yield chunk


async def _post_big(url: str, headers: dict[str, str], *, declared: bool) -> int | str:
    """POST BIG bytes, streamed (the client holds one chunk): chunked, or with its Content-Length."""
    sized = {"Content-Length": str(BIG)} if declared else {}
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(url, data=_chunks(BIG), headers={"Content-Type": "application/json", **sized, **headers}) as resp:
                return resp.status
    except (aiohttp.ClientError, ConnectionError) as exc:  # the server closed the connection on the unread rest
        return type(exc).__name__


@pytest.fixture
async def webhook_bot(fake_telegram: FakeTelegram, journeys) -> Any:
    port = free_port()
    bot = TelegramHarness(fake_telegram, journeys, webhook_url=HOOK, webhook_secret=SECRET, listen="127.0.0.1", port=port)
    await bot.start()
    try:
        yield bot, f"http://127.0.0.1:{port}/tg/hook"
    finally:
        await bot.stop()


async def _post(url: str, body: bytes, headers: dict[str, str], content_type: str = "application/json") -> int:
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=body, headers={"Content-Type": content_type, **headers}) as resp:
            return resp.status


async def test_huge_bodies_with_a_wrong_secret_cost_no_memory(webhook_bot) -> None:
    bot, url = webhook_bot
    gc.collect()
    wrong = [{}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {"X-Telegram-Bot-Api-Secret-Token": SECRET[:-1]}, {}]
    with PeakRss() as rss:
        results = await asyncio.gather(*(_post_big(url, headers, declared=i % 2 == 0) for i, headers in enumerate(wrong)))
    print(f"\nfour concurrent 90 MB POSTs with a wrong or missing secret: peak RSS growth {rss.growth / 2**20:.1f} MB; answers {results}")
    assert all(r == 403 or isinstance(r, str) for r in results), results
    assert 403 in results, "the refusal is answered before the connection closes"
    assert rss.growth < 100 * 2**20, f"peak RSS grew by {rss.growth / 2**20:.0f} MB"
    # the bot still takes real updates
    assert await _post(url, json.dumps(dict(command("start"), update_id=77)).encode(), {"X-Telegram-Bot-Api-Secret-Token": SECRET}) == 200
    await bot.wait_handled(77)


async def test_bodies_over_one_megabyte_and_malformed_updates_are_refused(webhook_bot, fake_telegram: FakeTelegram) -> None:
    bot, url = webhook_bot
    right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    mark = fake_telegram.mark()
    padded = json.dumps(dict(command("start"), update_id=5, padding="x" * 1_100_000)).encode()
    assert await _post(url, padded, right) == 413  # declared: refused before reading
    assert await _post_big(url, right, declared=False) in (413, "ClientOSError", "ServerDisconnectedError")  # chunked: reading stops at 1 MB
    assert await _post(url, b"{not json", right) == 400
    assert await _post(url, b"[1, 2, 3]", right) == 400
    assert await _post(url, b'{"update_id": "seven", "message": 3}', right) == 400
    assert await _post(url, b"\xff\xfe", right) == 400
    assert await _post(url, json.dumps(command("start")).encode(), right, content_type="text/plain") == 415
    assert await _post(url, json.dumps(dict(command("start"), update_id=6)).encode(), right) == 200
    await bot.wait_handled(6)
    assert 5 not in bot.handled
    assert len([c for c in fake_telegram.calls[mark:] if c.method == "sendMessage"]) >= 1
