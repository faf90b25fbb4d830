"""/healthz, /readyz and /metrics on every long-running server: the Telegram webhook server, the health
listener of Telegram long polling and of Slack Socket Mode (JOURNEYBOT_HEALTH_PORT), Slack's HTTP
server and `journeybot web`. Ready while the database answers and is at this release's migrations;
503 with a short reason (never a traceback, never a secret) when it is behind or cannot be reached;
the counts go up with scripted turns, summaries and the reminder and outbox loops."""
from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, select, text, update

from app import Journeys, OwnerKey
from bot.events import Start, Text
from bot.writer import CoachWriter, Usage, Written, answers_hash
from devkit.drive import type_lines
from devkit.fakes.telegram_api import FakeTelegram, command
from devkit.fakes.telegram_fixtures import fake_telegram  # noqa: F401  (the fixture)
from devkit.fakes.telegram_harness import TelegramHarness
from devkit.scripts import B2B_EN
from handlers.kit import ReminderLoop
from handlers.kit.health import HealthServer
from handlers.kit.outbox import OutboxLoop
from handlers.slack.core import SlackJourneys
from store.db import SCHEMA_HEADS, make_engine
from store.living import Reminder
from store.models import OutboxItem
from store.repository import Store
from tests.conftest import TODAY

SECRET = "s3cr3t_Token-42"
PASSWORD = "Pg-pass-w0rd-Secret"
SERVERS = ("telegram_webhook", "telegram_polling", "slack_http", "slack_socket_mode", "web")
METRICS = (
    "journeybot_updates_total",
    "journeybot_step_seconds",
    "journeybot_outbox_backlog",
    "journeybot_summaries_written_total",
    "journeybot_llm_calls_total",
    "journeybot_llm_tokens_total",
    "journeybot_llm_fallbacks_total",
    "journeybot_reminders_sent_total",
    "journeybot_survey_news_sent_total",
    "journeybot_outbox_resent_total",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    url: str  # where /healthz, /readyz and /metrics are
    harness: TelegramHarness | None = None
    webhook: str | None = None


@asynccontextmanager
async def serving(kind: str, journeys: Journeys, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Served]:
    """One of the servers, started as its command starts it, on a free loopback port."""
    if kind in ("telegram_webhook", "telegram_polling"):
        port = free_port()
        if kind == "telegram_webhook":
            options: dict[str, Any] = {"webhook_url": "https://bot.example.test/tg/hook", "webhook_secret": SECRET, "listen": "127.0.0.1", "port": port}
        else:
            options = {"health_listen": "127.0.0.1", "health_port": port}
        bot = TelegramHarness(fake, journeys, **options)
        await bot.start()
        try:
            hook = f"http://127.0.0.1:{port}/tg/hook" if kind == "telegram_webhook" else None
            yield Served(f"http://127.0.0.1:{port}", bot, hook)
        finally:
            await bot.stop()
        return
    if kind == "slack_socket_mode":
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
        from slack_bolt.async_app import AsyncApp

        from handlers.slack.app import socket_mode

        connected = asyncio.Event()
        disconnect = asyncio.Event()

        async def start_async(self: Any) -> None:  # no Slack here: "connected" until the test is done
            connected.set()
            await disconnect.wait()

        async def close_async(self: Any) -> None:
            pass

        monkeypatch.setattr(AsyncSocketModeHandler, "start_async", start_async)
        monkeypatch.setattr(AsyncSocketModeHandler, "close_async", close_async)
        adapter = SlackJourneys(journeys)
        adapter.outbox_interval = 0  # no loops: they would ask the real Slack who they are
        health = HealthServer(journeys, "127.0.0.1", 0)
        task = asyncio.ensure_future(socket_mode(AsyncApp(token="xoxb-test", signing_secret="secret"), "xapp-test", adapter, 0, health=health, shutdown_timeout=5))
        await asyncio.wait_for(connected.wait(), 10)
        try:
            yield Served(f"http://127.0.0.1:{health.port}")
        finally:
            disconnect.set()
            await asyncio.wait_for(task, 10)
        return
    if kind == "slack_http":
        from slack_bolt.async_app import AsyncApp

        from handlers.slack.app import web_app

        application = web_app(AsyncApp(token="xoxb-test", signing_secret="secret"), "secret", journeys=journeys)
    else:
        from handlers.web import web_application

        application = web_application(journeys)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield Served(f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}")  # type: ignore[union-attr]
    finally:
        await runner.cleanup()


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as response:
            return response.status, response.headers.get("Content-Type", ""), await response.text()


def sample(metrics: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(metrics):
        for each in family.samples:
            if each.name == name and all(each.labels.get(k) == v for k, v in labels.items()):
                return float(each.value)
    return 0.0


def set_schema(url: str, revision: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    finally:
        engine.dispose()


@pytest.fixture
def journeys(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("JOURNEYBOT_LLM", "off")
    app = Journeys(Store.open(sqlite_url), today=lambda: TODAY)
    yield app
    app.close()


@pytest.mark.parametrize("kind", SERVERS)
async def test_alive_ready_behind_and_counting(kind: str, journeys: Journeys, sqlite_url: str, fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    async with serving(kind, journeys, fake_telegram, monkeypatch) as served:
        assert await get(served.url + "/healthz") == (200, "text/plain; charset=utf-8", "ok")
        status, kind_of, body = await get(served.url + "/readyz")
        assert (status, kind_of) == (200, "application/json; charset=utf-8")
        assert json.loads(body) == {"status": "ready", "schema": sorted(SCHEMA_HEADS)}

        status, kind_of, before = await get(served.url + "/metrics")
        assert status == 200 and kind_of.startswith("text/plain; version=0.0.4")
        for name in METRICS:
            assert f"# TYPE {name.removesuffix('_total')}" in before, name
        assert sample(before, "journeybot_outbox_backlog") == 0

        owner = OwnerKey("telegram", "", f"owner-{kind}")
        await asyncio.to_thread(journeys.handle, owner, Start(lang_hint="en"), dedup_key=f"{kind}:1", address={"chat_id": 1})
        await asyncio.to_thread(journeys.handle, owner, Start(lang_hint="en"), dedup_key=f"{kind}:1", address={"chat_id": 1})  # re-delivered
        if served.harness is not None and served.webhook is None:  # a real update through long polling
            await served.harness.send(command("start", user_id=77))
        if served.webhook is not None:  # and through the webhook
            update = dict(command("start", user_id=77), update_id=901)
            async with aiohttp.ClientSession() as http:
                headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
                async with http.post(served.webhook, data=json.dumps(update), headers=headers) as response:
                    assert response.status == 200
            assert served.harness is not None
            await served.harness.wait_handled(901)
        through_telegram = 1 if served.harness is not None else 0

        status, _, after = await get(served.url + "/metrics")
        assert status == 200
        ok = dict(channel="telegram", outcome="ok")
        assert sample(after, "journeybot_updates_total", **ok) - sample(before, "journeybot_updates_total", **ok) == 1 + through_telegram
        duplicate = dict(channel="telegram", outcome="duplicate")
        assert sample(after, "journeybot_updates_total", **duplicate) - sample(before, "journeybot_updates_total", **duplicate) == 1
        assert sample(after, "journeybot_updates_total", channel="telegram", outcome="error") == 0  # shown at 0 from the first update
        steps = sample(after, "journeybot_step_seconds_count", channel="telegram") - sample(before, "journeybot_step_seconds_count", channel="telegram")
        assert steps == 2 + through_telegram
        assert sample(after, "journeybot_outbox_backlog") >= 1  # the replies of the scripted turn were never shown
        assert "process_cpu_seconds_total" in after

        set_schema(sqlite_url, "0003_behind")  # a database this release has not migrated yet
        status, _, body = await get(served.url + "/readyz")
        assert status == 503
        assert json.loads(body) == {"status": "unavailable", "reason": f"database schema at 0003_behind; this release needs {', '.join(sorted(SCHEMA_HEADS))}"}
        set_schema(sqlite_url, "0099_ahead")  # nor one a newer release migrated further
        assert (await get(served.url + "/readyz"))[0] == 503
        set_schema(sqlite_url, sorted(SCHEMA_HEADS)[0])
        assert (await get(served.url + "/readyz"))[0] == 200
        assert (await get(served.url + "/healthz"))[0] == 200


@pytest.mark.parametrize("kind", SERVERS)
async def test_a_database_that_cannot_be_reached_is_not_ready(kind: str, fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # nothing listens there
    engine = make_engine(f"postgresql+psycopg://journeybot:{PASSWORD}@127.0.0.1:{port}/journeybot")
    journeys = Journeys(Store(engine), today=lambda: TODAY)
    try:
        async with serving(kind, journeys, fake_telegram, monkeypatch) as served:
            assert await get(served.url + "/healthz") == (200, "text/plain; charset=utf-8", "ok")
            status, _, body = await get(served.url + "/readyz")
            assert status == 503
            assert json.loads(body) == {"status": "unavailable", "reason": "database unreachable (OperationalError)"}
            replies = await asyncio.to_thread(journeys.handle, OwnerKey("slack", "T1", "U1"), Text("hello"))
            assert replies[0].data.get("store_down")
            status, _, metrics = await get(served.url + "/metrics")
            assert status == 200
            assert sample(metrics, "journeybot_updates_total", channel="slack", outcome="store_down") == 1
            assert "journeybot_outbox_backlog " not in metrics  # not counted: the database did not answer
            assert "Traceback" not in body + metrics and PASSWORD not in body + metrics
    finally:
        journeys.close()
    assert PASSWORD not in caplog.text


class CountingWriter:
    """A model-backed writer as the app layer sees it: two calls, some tokens, and a fallback."""

    name = "llm:counted"
    model = "counted"
    prompt_version = "t1"

    def __init__(self) -> None:
        self.coach = CoachWriter(lambda: TODAY)
        self.written = 0

    def cache_key(self, view: Any) -> str:
        return answers_hash(view, "counted", str(self.written))

    async def write(self, view: Any) -> Written:
        self.written += 1
        return Written(report=self.coach.report(view), usage=Usage(prompt_tokens=1200, completion_tokens=300), calls=2, fallback=self.written == 2)


async def test_summaries_reminders_news_and_resent_replies_are_counted(sqlite_url: str, fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    journeys = Journeys(Store.open(sqlite_url), writer=CountingWriter(), today=lambda: TODAY)
    try:
        async with serving("web", journeys, fake_telegram, monkeypatch) as served:
            _, _, before = await get(served.url + "/metrics")
            ann = OwnerKey("telegram", "", "ann")
            await asyncio.to_thread(type_lines, journeys, ann, B2B_EN)  # a whole interview: a review is scheduled
            journey_id = journeys.current_journey_id(ann)
            assert journey_id is not None
            await journeys.report(ann, journey_id)
            await journeys.report(ann, journey_id)  # the model failed this time: the coach wrote it

            with journeys.store.sessions.begin() as session:  # the review fell due
                session.execute(update(Reminder).values(due_at=datetime.now(timezone.utc) - timedelta(days=1)))
            link = journeys.store.survey_link(ann, journey_id)
            journeys.store.submit_survey(link.token, {"awareness": 4}, None, "sub-1")  # a customer answered

            async def send(reminder: Any) -> None:
                pass

            assert await ReminderLoop(journeys, "telegram", send, interval=0).once() == 2

            bob = OwnerKey("telegram", "", "bob")  # a turn whose process died before showing its replies
            journeys.handle(bob, Start(lang_hint="en"), address={"chat_id": 2})
            with journeys.store.sessions() as session:
                pending = list(session.scalars(select(OutboxItem.id).where(OutboxItem.user_id == "bob", OutboxItem.status == "pending")))
            assert pending
            for receipt in pending:
                journeys.retry_later(receipt, 0)

            async def show(owner: OwnerKey, address: dict[str, Any], items: list[Any]) -> int:
                return 10

            assert await OutboxLoop(journeys, "telegram", show, interval=0).once() == len(pending)
            _, _, after = await get(served.url + "/metrics")

        def grew(name: str, **labels: str) -> float:
            return sample(after, name, **labels) - sample(before, name, **labels)

        assert grew("journeybot_summaries_written_total", writer="llm:counted") == 2
        assert grew("journeybot_llm_calls_total", writer="llm:counted") == 4
        assert grew("journeybot_llm_tokens_total", writer="llm:counted", kind="prompt") == 2400
        assert grew("journeybot_llm_tokens_total", writer="llm:counted", kind="completion") == 600
        assert grew("journeybot_llm_fallbacks_total", writer="llm:counted") == 1
        assert grew("journeybot_reminders_sent_total", channel="telegram") == 1
        assert grew("journeybot_survey_news_sent_total", channel="telegram") == 1
        assert grew("journeybot_outbox_resent_total", channel="telegram") == len(pending)
        assert grew("journeybot_updates_total", channel="telegram", outcome="ok") == len(B2B_EN) + 2
    finally:
        journeys.close()


def test_the_terminal_never_loads_prometheus_client(tmp_path: Path) -> None:
    """Metrics exist once a server asks for them: a turn alone counts nothing and loads nothing."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from app import Journeys, OwnerKey\n"
        "from bot.events import Start\n"
        "from store.repository import Store\n"
        f"j = Journeys(Store.open('sqlite:///{tmp_path / 'jb.db'}'))\n"
        "j.handle(OwnerKey('terminal', 'local', 'me'), Start(lang_hint='en'))\n"
        "assert 'prometheus_client' not in sys.modules, 'loaded'\n"
        "j.metrics\n"
        "assert 'prometheus_client' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr


def test_outbox_rows_are_what_the_backlog_counts(journeys: Journeys) -> None:
    owner = OwnerKey("slack", "T1", "U1")
    journeys.handle(owner, Start(lang_hint="en"), address={"channel": "D1"})
    with journeys.store.sessions() as session:
        pending = len(session.scalars(select(OutboxItem.id).where(OutboxItem.status == "pending")).all())
    assert pending >= 1
    metrics = journeys.metrics.exposition().decode()
    assert sample(metrics, "journeybot_outbox_backlog") == pending


def test_journeybot_web_with_a_health_port_of_its_own(sqlite_url: str) -> None:
    """The same health check for every container: JOURNEYBOT_HEALTH_PORT works for `journeybot web` too,
    next to the routes on its own port; SIGTERM ends both with exit code 0."""
    import http.client
    import os
    import signal
    import subprocess
    import sys
    import time

    web_port, health = free_port(), free_port()
    env = {**os.environ, "DATABASE_URL": sqlite_url, "JOURNEYBOT_WEB_PORT": str(web_port), "JOURNEYBOT_HEALTH_PORT": str(health), "JOURNEYBOT_LANG": "en"}
    root = Path(__file__).resolve().parents[1]
    process = subprocess.Popen([sys.executable, "-m", "handlers.cli", "web"], cwd=root, env=env, stderr=subprocess.PIPE, text=True)

    def status(port: int, path: str) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", path)
            return conn.getresponse().status
        finally:
            conn.close()

    try:
        process.stderr.readline()  # type: ignore[union-attr]  # listening
        deadline = time.monotonic() + 20
        while True:
            try:
                if status(health, "/healthz") == 200:
                    break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert status(health, "/readyz") == 200 and status(health, "/metrics") == 200
        assert status(web_port, "/readyz") == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_a_taken_health_port_is_one_clear_error(journeys: Journeys) -> None:
    from handlers.kit.health import HealthPortError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(HealthPortError, match=f"JOURNEYBOT_HEALTH_PORT: cannot listen on 127.0.0.1:{port}"):
            await HealthServer(journeys, "127.0.0.1", port).start()
