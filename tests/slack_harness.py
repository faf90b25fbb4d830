"""Shared setup for the Slack tests: the real Bolt app on loopback, its Web API pointed at FakeSlack."""
from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from datetime import date
from typing import Any, AsyncIterator
from urllib.parse import urlencode

from aiohttp import web

from app import Journeys, OwnerKey
from handlers.slack.app import PATH, build_app, web_app
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

    async def select(self, user_id: str, message: Call, value: str) -> Any:
        """Choose the option `value` (e.g. "rate:1=4") in a select menu of `message`, as Slack sends it;
        the menus are read from the message as it stands now (a choice updates it in place)."""
        ts = message.response["ts"] if message.response else ""
        stored = self.slack.messages.get((message.channel, ts), {})
        for block in stored.get("blocks") or message.blocks:
            menu = block.get("accessory") or {}
            if menu.get("type") != "static_select":
                continue
            option = next((o for o in menu.get("options") or () if json.loads(o["value"])["v"] == value), None)
            if option is None:
                continue
            n = self.signer.next_id()
            payload = {
                "type": "block_actions",
                "team": {"id": self.slack.team_id, "domain": "bakery"},
                "user": {"id": user_id, "username": user_id.lower(), "team_id": self.slack.team_id},
                "api_app_id": "A0APP",
                "token": "legacy-verification-token",
                "container": {"type": "message", "message_ts": ts, "channel_id": message.channel, "is_ephemeral": False},
                "trigger_id": f"trigger.s{n}",
                "channel": {"id": message.channel, "name": "directmessage"},
                "message": {"ts": ts, "type": "message", "text": stored.get("text", ""), "blocks": stored.get("blocks") or message.blocks},
                "response_url": self.slack.response_url(f"sel{n}"),
                "actions": [{
                    "type": "static_select",
                    "action_id": menu["action_id"],
                    "block_id": block.get("block_id", "q"),
                    "selected_option": option,
                    "placeholder": menu.get("placeholder"),
                    "action_ts": f"{1_950_000_000 + n}.000400",
                }],
            }
            return await self.signer.post(urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded")
        raise AssertionError(f"no select with {value!r} in the message")


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
    runner = web.AppRunner(web_app(app, SIGNING_SECRET), access_log=None)
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
