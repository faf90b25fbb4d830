"""Secrets are never printed: not by a Telegram file download at DEBUG (httpx puts the bot token,
URL-encoded, in its request line), and not when `journeybot telegram` or `journeybot slack` cannot
start (a refused token, an unreachable API or database, a bad setting, a taken port): those end with
one line in the operator's language and a non-zero exit, never a traceback."""
from __future__ import annotations

import asyncio
import io
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterator
from urllib.parse import quote, quote_plus

import pytest

import prompts
from devkit.fakes.slack_api import FakeSlack
from devkit.fakes.telegram_api import FakeTelegram, document
from devkit.fakes.telegram_fixtures import fake_telegram  # noqa: F401
from devkit.fakes.telegram_harness import TelegramHarness
from handlers import logs
from tests.telegram_support import database_url, journeys  # noqa: F401

JOURNEYBOT = Path(sys.executable).with_name("journeybot")
PASSWORD = "S3cr3t-pg:pass@word"


def forms(secret: str) -> set[str]:
    """The secret as written and as URLs and forms encode it."""
    return {
        secret,
        quote(secret),
        quote(secret, safe=""),
        quote_plus(secret),
        quote(secret, safe="").lower(),
        quote(secret, safe="").replace("%3A", "%3a"),
    } - {""}


def leaked(text: str, *secrets: str) -> list[str]:
    return sorted(f for s in secrets for f in forms(s) if f in text)


# ------------------------------------------------------------------ a file download at DEBUG
@pytest.fixture
def debug_logging(monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram) -> Iterator[io.StringIO]:  # noqa: F811
    """Logging as `journeybot telegram` sets it up at JOURNEYBOT_LOG_LEVEL=DEBUG, into a stream."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake_telegram.token)
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    try:
        logs.configure("DEBUG")
        yield stream
    finally:
        root.setLevel(level)
        root.removeHandler(handler)


async def test_a_telegram_file_download_logs_no_token_at_debug(
    debug_logging: io.StringIO, caplog: pytest.LogCaptureFixture, fake_telegram: FakeTelegram, journeys  # noqa: F811
) -> None:
    token = fake_telegram.token
    assert ":" in token  # so the URL carries it encoded (%3A) as well as raw
    caplog.set_level(logging.DEBUG)
    data = b"Discovery,Proposal,Overall,Comment\n4,1,3,Slow proposal\n"
    file_id = fake_telegram.add_download(data, "answers.csv")
    async with TelegramHarness(fake_telegram, journeys) as bot:
        await bot.send(document(file_id, "answers.csv", len(data)))  # the adapter's own streamed download
        await fake_telegram.wait_idle()
        assert bot.app is not None
        file = await bot.app.bot.get_file(file_id)  # python-telegram-bot's download quotes the path: %3A
        assert bytes(await file.download_as_bytearray()) == data
    downloads = [c for c in fake_telegram.calls if c.method == "getFile"]
    assert len(downloads) == 2, "the document was never fetched"

    output = debug_logging.getvalue()
    for text in (caplog.text, output):
        assert "/getFile" in text and text.count("/file/bot***/documents/") >= 2  # httpx's request lines, masked
        assert leaked(text, token) == [], leaked(text, token)
    for record in caplog.records:  # what any handler added later would format
        assert leaked(record.getMessage(), token) == [], (record.name, record.msg, record.args)


# ------------------------------------------------------------------ journeybot telegram cannot start
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(JOURNEYBOT), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_", "JOURNEYBOT_", "OPENAI_", "PORT", "LANG", "LC_"))}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "JOURNEYBOT_LLM": "off", **values})
    return env


def _one_line(done: subprocess.CompletedProcess[str], *secrets: str) -> str:
    """The single line a failed start prints; nothing else, no traceback, no secret, exit code 2."""
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output and leaked(output, *secrets) == [], output
    assert done.stdout == "" and done.stderr.count("\n") == 1, output
    return done.stderr.strip()


@pytest.fixture(scope="module")
def telegram_server() -> Iterator[FakeTelegram]:
    server = FakeTelegram.run_in_thread()
    try:
        yield server
    finally:
        server.shutdown()


@pytest.mark.parametrize(
    "lang,level,token",
    [
        ("nl", "WARNING", "123456:WRONG-token_xyz"),  # a well-formed token the server does not know: 401
        ("en", "DEBUG", "123456:WR/ONG token+xyz"),  # a malformed one: 404, and a body that is no JSON
    ],
)
def test_journeybot_telegram_with_a_refused_token_says_so_in_one_line(
    telegram_server: FakeTelegram, tmp_path: Path, lang: str, level: str, token: str
) -> None:
    env = _env(tmp_path, TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_URL=telegram_server.url, JOURNEYBOT_LANG=lang, JOURNEYBOT_LOG_LEVEL=level)
    done = _run(["telegram"], env, tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert leaked(output, token) == [], output
    assert done.stderr.strip().splitlines()[-1] == prompts.say(lang, "telegram", "settings.token_rejected")
    if level == "WARNING":
        assert _one_line(done, token) == prompts.say(lang, "telegram", "settings.token_rejected")
    else:  # DEBUG shows the library's request lines, masked
        assert "getMe" in output and "/bot***/getMe" in output
    assert not [c for c in telegram_server.calls if c.method in ("getUpdates", "setMyCommands")]


def test_journeybot_telegram_start_up_failures_are_one_line(telegram_server: FakeTelegram, tmp_path: Path) -> None:
    token = telegram_server.token
    base = dict(TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_URL=telegram_server.url, LANG="nl_NL.UTF-8")

    down = f"postgresql://bob:{quote(PASSWORD, safe='')}@127.0.0.1:{_free_port()}/journeybot"
    line = _one_line(_run(["telegram"], _env(tmp_path, **base, DATABASE_URL=down), tmp_path), token, PASSWORD)
    assert line.startswith("De database is niet bereikbaar (postgresql+psycopg://bob:***@127.0.0.1:")

    unusable = f"mysql://bob:{quote(PASSWORD, safe='')}@127.0.0.1/journeybot"
    line = _one_line(_run(["telegram"], _env(tmp_path, **base, DATABASE_URL=unusable), tmp_path), token, PASSWORD)
    assert line.startswith("De database in DATABASE_URL is niet bruikbaar (mysql://bob:***@127.0.0.1/journeybot)")

    line = _one_line(_run(["telegram"], _env(tmp_path, **base, TELEGRAM_OVERALL_MAX_RATE="fast"), tmp_path), token)
    expected = prompts.say("nl", "cli", "settings.expects.rate")
    assert line == prompts.say("nl", "cli", "settings.bad", name="TELEGRAM_OVERALL_MAX_RATE", value="fast", expected=expected)

    closed = f"http://127.0.0.1:{_free_port()}"
    line = _one_line(_run(["telegram"], _env(tmp_path, **{**base, "TELEGRAM_API_URL": closed}), tmp_path), token)
    assert line.startswith(f"Telegram is niet bereikbaar op {closed} (")

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        webhook = dict(
            TELEGRAM_WEBHOOK_URL="https://bot.example.com/telegram",
            TELEGRAM_WEBHOOK_SECRET="webhook-secret-123",
            TELEGRAM_WEBHOOK_LISTEN="127.0.0.1",
            TELEGRAM_WEBHOOK_PORT=str(port),
        )
        line = _one_line(_run(["telegram"], _env(tmp_path, **base, **webhook), tmp_path), token, "webhook-secret-123")
    assert line == prompts.say("nl", "telegram", "settings.port_in_use", port=port)
    assert telegram_server.webhook is None or telegram_server.webhook.get("url") != webhook["TELEGRAM_WEBHOOK_URL"]


def test_an_unexpected_failure_is_one_masked_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from handlers import cli
    from handlers.telegram import app as telegram_app

    token = "123456:ABC-unexpected_secret"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv("JOURNEYBOT_LANG", "en")

    def broken(settings: object) -> None:
        raise RuntimeError(f"cannot use {quote(token, safe='')}\nsecond line")

    monkeypatch.setattr(telegram_app, "preflight", broken)
    assert cli.main(["telegram"]) == 1
    err = capsys.readouterr().err
    assert err == prompts.say("en", "cli", "failed", command="telegram", error="RuntimeError: cannot use *** second line") + "\n"


# ------------------------------------------------------------------ journeybot slack cannot start
async def _run_async(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = await asyncio.create_subprocess_exec(
        str(JOURNEYBOT), *args, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"journeybot {' '.join(args)} did not stop") from None
    return subprocess.CompletedProcess(args, proc.returncode or 0, out.decode(), err.decode())


async def test_journeybot_slack_with_a_refused_token_says_so_in_one_line(tmp_path: Path) -> None:
    async with FakeSlack() as slack:
        bad = "xoxb-1234-refused-token"
        base = dict(SLACK_SIGNING_SECRET="signing-secret-123", SLACK_API_URL=slack.api_url, PORT=str(_free_port()))
        done = await _run_async(["slack"], _env(tmp_path, **base, SLACK_BOT_TOKEN=bad, JOURNEYBOT_LANG="nl"), tmp_path)
        line = _one_line(done, bad, "signing-secret-123")
        assert line == prompts.say("nl", "slack", "settings.token_rejected", name="SLACK_BOT_TOKEN", error="invalid_auth")

        app_token = "xapp-1-A111-refused"  # Socket Mode: the app-level token is checked too
        done = await _run_async(["slack"], _env(tmp_path, **base, SLACK_BOT_TOKEN=slack.token, SLACK_APP_TOKEN=app_token), tmp_path)
        line = _one_line(done, slack.token, app_token)
        assert line == prompts.say("en", "slack", "settings.token_rejected", name="SLACK_APP_TOKEN", error="invalid_auth")
        assert [c.method for c in slack.calls].count("auth.test") == 2


async def test_journeybot_slack_start_up_failures_are_one_line(tmp_path: Path) -> None:
    async with FakeSlack() as slack:
        base = dict(SLACK_BOT_TOKEN=slack.token, SLACK_SIGNING_SECRET="signing-secret-123", SLACK_API_URL=slack.api_url, JOURNEYBOT_LANG="en")
        with socket.socket() as taken:
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            taken.bind(("0.0.0.0", 0))
            taken.listen()
            port = taken.getsockname()[1]
            done = await _run_async(["slack", "--port", str(port)], _env(tmp_path, **base), tmp_path)
        output = done.stdout + done.stderr
        assert done.returncode == 2 and "Traceback" not in output and leaked(output, slack.token, "signing-secret-123") == [], output
        assert done.stderr.strip().splitlines()[-1] == prompts.say("en", "slack", "settings.port_in_use", port=port)

        done = await _run_async(["slack"], _env(tmp_path, **base, PORT="http"), tmp_path)
        expected = prompts.say("en", "cli", "settings.expects.port")
        assert _one_line(done, slack.token) == prompts.say("en", "cli", "settings.bad", name="PORT", value="http", expected=expected)

        done = await _run_async(["slack"], _env(tmp_path, **base, JOURNEYBOT_REMINDER_INTERVAL="hourly"), tmp_path)
        expected = prompts.say("en", "cli", "settings.expects.seconds")
        assert _one_line(done, slack.token) == prompts.say("en", "cli", "settings.bad", name="JOURNEYBOT_REMINDER_INTERVAL", value="hourly", expected=expected)

        closed = f"http://127.0.0.1:{_free_port()}/api/"
        done = await _run_async(["slack"], _env(tmp_path, **{**base, "SLACK_API_URL": closed}), tmp_path)
        assert _one_line(done, slack.token).startswith(f"Slack cannot be reached at {closed} (")
