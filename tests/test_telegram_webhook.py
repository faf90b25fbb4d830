"""Webhook mode: the secret header is checked on every request; settings from the environment."""
from __future__ import annotations

import json
import socket

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
