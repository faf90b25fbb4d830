"""SIGTERM while an update is being handled: a real `journeybot telegram` process in webhook mode (and
one in long polling) against the fake Bot API, whose sendMessage is made slow. The process stops
taking updates, finishes the update in flight, writes the receipts and exits 0; given less time than
the update needs (JOURNEYBOT_SHUTDOWN_TIMEOUT), it still exits 0 within it, the reply stays pending
in the outbox, the webhook request is answered 503 and the next process, given the update again as
Telegram would, delivers the reply once. Slack's drain is bounded the same way, and a real
`journeybot slack` over HTTP finishes the reply it is posting."""
from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import create_engine, select

import prompts
from app import Journeys
from devkit.fakes.telegram_api import FakeTelegram, command, visible_text
from handlers.slack.core import SlackJourneys
from store.models import OutboxItem
from store.repository import Store

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[1]
SECRET = "s3cr3t_Token-42"
USER = 4242
WELCOME = prompts.say("en", "messages", "welcome")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    server = FakeTelegram.run_in_thread()
    try:
        yield server
    finally:
        server.shutdown()


class Bot:
    """`journeybot telegram` in a process of its own."""

    def __init__(self, fake: FakeTelegram, url: str, log: Path, *, webhook_port: int | None, timeout: float) -> None:
        self.port = webhook_port
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_URL": fake.url,
            "DATABASE_URL": url,
            "JOURNEYBOT_LLM": "off",
            "JOURNEYBOT_OUTBOX_INTERVAL": "0.5",
            "JOURNEYBOT_REMINDER_INTERVAL": "0",
            "JOURNEYBOT_SHUTDOWN_TIMEOUT": str(timeout),
            "JOURNEYBOT_LOG_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT),
        }
        for name in ("TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_WEBHOOK_PORT", "JOURNEYBOT_HEALTH_PORT"):
            env.pop(name, None)
        if webhook_port is not None:
            env.update(
                TELEGRAM_WEBHOOK_URL="https://bot.example.test/tg/hook",
                TELEGRAM_WEBHOOK_SECRET=SECRET,
                TELEGRAM_WEBHOOK_LISTEN="127.0.0.1",
                TELEGRAM_WEBHOOK_PORT=str(webhook_port),
            )
        self.log_path = log
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from handlers.cli import main; raise SystemExit(main(['telegram']))"], env=env, cwd=ROOT, stdout=self.log, stderr=self.log
        )

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> int:
        assert self.port is not None
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            return conn.getresponse().status
        finally:
            conn.close()

    def wait_ready(self, fake: FakeTelegram) -> None:
        """Until the webhook answers /readyz (or, polling, until it polls)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text(errors="replace")
            if self.port is None:
                if fake.calls_of("getUpdates"):
                    return
            else:
                try:
                    if self.request("GET", "/readyz") == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.05)
        raise AssertionError("journeybot telegram did not start")

    def post_update(self, update: dict[str, Any]) -> int:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
        return self.request("POST", "/tg/hook", json.dumps(update).encode(), headers)

    def post_in_background(self, update: dict[str, Any]) -> tuple[threading.Thread, list[int | str]]:
        """As Telegram posts: the answer comes once the update was handled (the webhook's contract)."""
        answer: list[int | str] = []

        def post() -> None:
            try:
                answer.append(self.post_update(update))
            except OSError as exc:
                answer.append(type(exc).__name__)

        thread = threading.Thread(target=post, daemon=True)
        thread.start()
        return thread, answer

    def terminate(self, wait: float) -> tuple[int, float]:
        """SIGTERM; the exit code and the seconds it took (TimeoutExpired beyond `wait`)."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(wait)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self.log.close()
        return code, time.monotonic() - started


def outbox(url: str) -> list[tuple[str, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [(str(r.id), r.status) for r in conn.execute(select(OutboxItem.id, OutboxItem.status).where(OutboxItem.user_id == str(USER)).order_by(OutboxItem.id))]
    finally:
        engine.dispose()


def in_flight(fake: FakeTelegram) -> None:
    """Until a sendMessage is being answered (slowly)."""
    deadline = time.monotonic() + 20
    while not any(c.method == "sendMessage" and c.status == 0 for c in list(fake.calls)):
        assert time.monotonic() < deadline, "no sendMessage came"
        time.sleep(0.02)


def delivered(fake: FakeTelegram, text: str) -> bool:
    return any(visible_text(c.text) == text for c in fake.calls_of("sendMessage", chat_id=USER))


def start_update(fake: FakeTelegram) -> dict[str, Any]:
    return dict(command("start", user_id=USER), update_id=fake.new_update_id())


def test_sigterm_in_webhook_mode_finishes_the_update_in_flight(fake: FakeTelegram, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    bot = Bot(fake, url, tmp_path / "bot.log", webhook_port=free_port(), timeout=20)
    bot.wait_ready(fake)
    fake.delay("sendMessage", 1.0)  # each message takes a second: the welcome and the first question
    posting, answer = bot.post_in_background(start_update(fake))
    in_flight(fake)
    assert not delivered(fake, WELCOME)
    code, seconds = bot.terminate(wait=40)
    posting.join(30)
    assert answer == [200]  # handled: Telegram will not send it again
    log = bot.log_path.read_text(errors="replace")
    assert code == 0, log
    assert delivered(fake, WELCOME)  # finished after SIGTERM
    sent = fake.calls_of("sendMessage", chat_id=USER)
    assert len(sent) >= 2 and sent[-1].buttons()  # and the question after it
    assert {status for _, status in outbox(url)} == {"sent"}  # the receipts were written before the exit
    assert "Traceback" not in log and "still running" not in log
    print(f"webhook: exit 0 {seconds:.1f} s after SIGTERM, {len(sent)} messages of 1 s each finished")


def test_sigterm_out_of_time_exits_within_the_bound_and_the_next_process_delivers(fake: FakeTelegram, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    port = free_port()
    bot = Bot(fake, url, tmp_path / "bot.log", webhook_port=port, timeout=2)
    bot.wait_ready(fake)
    fake.delay("sendMessage", 60)  # far longer than the process may take to stop
    update = start_update(fake)
    posting, answer = bot.post_in_background(update)
    in_flight(fake)
    code, seconds = bot.terminate(wait=15)  # a process waiting for the reply would take a minute
    posting.join(30)
    log = bot.log_path.read_text(errors="replace")
    assert code == 0, log
    assert "still running were stopped" in log
    assert answer == [503]  # not handled: Telegram delivers it again
    assert not delivered(fake, WELCOME)
    assert "pending" in {status for _, status in outbox(url)}  # the turn was committed; its reply waits in the outbox
    print(f"out of time: exit 0 {seconds:.1f} s after SIGTERM with JOURNEYBOT_SHUTDOWN_TIMEOUT=2")

    fake.delay("sendMessage", 0)
    second = Bot(fake, url, tmp_path / "bot2.log", webhook_port=port, timeout=20)
    second.wait_ready(fake)
    assert second.post_update(update) == 200  # Telegram's second delivery
    deadline = time.monotonic() + 40
    while not (delivered(fake, WELCOME) and {status for _, status in outbox(url)} == {"sent"}):
        assert time.monotonic() < deadline, (outbox(url), second.log_path.read_text(errors="replace"))
        time.sleep(0.1)
    code, _ = second.terminate(wait=40)
    assert code == 0
    assert [visible_text(c.text) for c in fake.calls_of("sendMessage", chat_id=USER)].count(WELCOME) == 1


def test_sigterm_in_long_polling_finishes_the_update_in_flight(fake: FakeTelegram, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    bot = Bot(fake, url, tmp_path / "bot.log", webhook_port=None, timeout=20)
    bot.wait_ready(fake)
    fake.delay("sendMessage", 1.0)
    fake.call_soon(fake.push, start_update(fake))
    in_flight(fake)
    code, seconds = bot.terminate(wait=40)
    assert code == 0, bot.log_path.read_text(errors="replace")
    assert delivered(fake, WELCOME)
    assert {status for _, status in outbox(url)} == {"sent"}
    print(f"long polling: exit 0 {seconds:.1f} s after SIGTERM")


async def test_slacks_drain_is_bounded_and_writes_the_receipts(sqlite_url: str) -> None:
    journeys = Journeys(Store.open(sqlite_url))
    adapter = SlackJourneys(journeys)
    flushed: list[bool] = []
    real_flush = journeys.flush_delivered

    def flush() -> None:
        flushed.append(True)
        real_flush()

    journeys.flush_delivered = flush  # type: ignore[method-assign]
    finished: list[str] = []

    async def quick() -> None:
        await asyncio.sleep(0.05)
        finished.append("quick")

    async def stuck() -> None:
        await asyncio.sleep(3600)

    adapter.spawn(quick())
    hanging = adapter.spawn(stuck())
    started = time.monotonic()
    await adapter.drain(0.5)
    took = time.monotonic() - started
    assert finished == ["quick"]  # accepted work is finished
    assert hanging.cancelled()  # what cannot finish in time is stopped
    assert flushed == [True]  # and the receipts are written after it
    assert took < 5, took  # bounded: not an hour
    journeys.close()


async def test_sigterm_to_journeybot_slack_over_http_finishes_the_accepted_work(tmp_path: Path) -> None:
    """Slack was told "ok" at once; the DM reply is being posted (slowly) when SIGTERM comes: it is
    posted, the receipts are written, and the process exits 0."""
    from devkit.fakes.slack_api import SIGNING_SECRET, FakeSlack, SlackSigner

    url = f"sqlite:///{tmp_path / 'slack.db'}"
    port = free_port()
    async with FakeSlack() as slack:
        slack.add_user("U1")
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "PORT": str(port),
            "DATABASE_URL": url,
            "JOURNEYBOT_LLM": "off",
            "JOURNEYBOT_REMINDER_INTERVAL": "0",
            "JOURNEYBOT_SHUTDOWN_TIMEOUT": "20",
            "PYTHONPATH": str(ROOT),
        }
        env.pop("SLACK_APP_TOKEN", None)
        log = (tmp_path / "slack.log").open("wb")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from handlers.cli import main; raise SystemExit(main(['slack']))", env=env, cwd=ROOT, stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + 30
            while True:  # until it is ready
                assert process.returncode is None and time.monotonic() < deadline, (tmp_path / "slack.log").read_text(errors="replace")
                try:
                    status = await asyncio.to_thread(lambda: _get(port, "/readyz"))
                    if status == 200:
                        break
                except OSError:
                    pass
                await asyncio.sleep(0.05)
            slack.delay("chat.postMessage", 1.0)
            mark = len(slack.calls)
            async with SlackSigner(f"http://127.0.0.1:{port}/slack/events", fake=slack) as signer:
                assert (await signer.dm("U1", "hello")).status == 200  # a first DM starts the interview
            while not any(c.method == "chat.postMessage" for c in slack.calls[mark:]):  # the question is being posted
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)
            posts = [c for c in slack.calls[mark:] if c.method == "chat.postMessage"]
            assert all(c.response is None for c in posts)  # not answered yet
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), 40)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            log.close()
        assert code == 0, (tmp_path / "slack.log").read_text(errors="replace")
        posts = [c for c in slack.calls[mark:] if c.method == "chat.postMessage" and c.channel == "DU1"]
        assert posts and all(c.response and c.response.get("ok") for c in posts)  # finished after SIGTERM
        assert any(c.params.get("blocks") for c in posts)  # the question with its buttons among them
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            statuses = {r.status for r in conn.execute(select(OutboxItem.status).where(OutboxItem.user_id == "U1"))}
    finally:
        engine.dispose()
    assert statuses == {"sent"}  # the receipts were written before the exit


def _get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()
