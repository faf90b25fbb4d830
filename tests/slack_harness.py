"""Shared setup for the Slack tests: the real Bolt app on loopback, its Web API pointed at FakeSlack."""
from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from datetime import date
from typing import Any, AsyncIterator

from aiohttp import web

from app import Journeys, OwnerKey
from handlers.slack.app import PATH, build_app
from handlers.slack.core import SlackJourneys
from store.repository import Store
from devkit.fakes.slack_api import BOT_TOKEN, SIGNING_SECRET, TEAM_ID, Call, FakeSlack, SlackSigner, buttons_of

TODAY = date(2026, 11, 23)
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy", "NO_PROXY", "no_proxy")


@dataclass
class Harness:
    slack: FakeSlack
    signer: SlackSigner
    journeys: SlackJourneys  # the adapter
    app: Journeys  # the application layer behind it
    url: str

    @property
    def store(self) -> Store:
        """The database, for tests that inspect it (adapters never do)."""
        return self.app.store

    def owner(self, user_id: str, team_id: str = TEAM_ID) -> OwnerKey:
        return OwnerKey("slack", team_id, user_id)

    def dm_posts(self, user_id: str, since: int = 0) -> list[Call]:
        return [c for c in self.slack.since(since, "chat.postMessage") if c.channel == f"D{user_id}"]

    def last_question(self, user_id: str, since: int = 0) -> Call | None:
        posts = [c for c in self.dm_posts(user_id, since) if c.buttons()]
        return posts[-1] if posts else None

    async def next_question(self, user_id: str, since: int) -> Call:
        calls = await self.slack.wait_for(
            "chat.postMessage", since=since, predicate=lambda c: c.channel == f"D{user_id}" and bool(c.buttons())
        )
        return calls[-1]

    async def tap(self, user_id: str, message: Call, value: str | None = None, *, label: str | None = None, **kw: Any) -> Any:
        """Tap the button of `message` whose option value (or label) matches."""
        for button in message.buttons():
            option = json.loads(button["value"])["v"]
            if (value is not None and option == value) or (label is not None and button["text"]["text"] == label):
                ts = message.response["ts"] if message.response else ""
                stored = self.slack.messages.get((message.channel, ts), {})
                return await self.signer.action(
                    user_id, {**button, "block_id": "q"}, channel=message.channel, message_ts=ts, message_blocks=stored.get("blocks"), **kw
                )
        raise AssertionError(f"no button {value or label!r} in {[b['value'] for b in message.buttons()]}")


def step_of(message: Call) -> str:
    return json.loads(message.buttons()[0]["value"])["s"]


async def start_harness(tmp_path: Any, *, journeys: Journeys | None = None) -> tuple[Harness, web.AppRunner]:
    for name in PROXY_VARS:
        os.environ.pop(name, None)
    slack = await FakeSlack().start()
    for user in ("U1", "U2", "U3"):
        slack.add_user(user)
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/journeybot.db",
        "JOURNEYBOT_LLM": "off",
    }
    journeys = journeys or Journeys(Store.open(env["DATABASE_URL"]), today=lambda: TODAY)
    app, adapter = build_app(journeys, env)
    runner = web.AppRunner(app.web_app(path=PATH), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}{PATH}"
    signer = await SlackSigner(url, fake=slack).__aenter__()
    return Harness(slack, signer, adapter, journeys, url), runner


async def stop_harness(h: Harness, runner: web.AppRunner) -> None:
    try:
        await asyncio.wait_for(h.journeys.drain(), 20)
    finally:
        await h.signer.__aexit__(None, None, None)
        await runner.cleanup()
        await h.slack.stop()
        h.app.close()
