"""The App Home tab's buttons. Each one does in the owner's DM what its command does there, then the
Home view is published again (the journey's state may have changed):

  Start     `/journey`: start or carry on with the interview
  Carry on  `/journey open <id>`: that journey becomes the current one and its question is asked
  Export    `/journey export` of that journey: its files (it does not become the current one)
  Review    `/journey open <id>` without its question, then `/journey review`

The journey id in a button is only a wish: the application layer opens or exports only the
owner's own journeys.
"""
from __future__ import annotations

import asyncio
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from app import OwnerKey
from app import home as home_app
from bot.events import Command
from handlers.slack import home, render
from handlers.slack.core import Respond, SlackJourneys
from handlers.slack.listeners.commands import journey as command
from handlers.slack.listeners.events.app_home import HomeTab


def register(app: AsyncApp, tab: HomeTab) -> None:
    journeys = tab.journeys

    @app.action(re.compile(rf"^{re.escape(home.ACTION)}\."))
    async def home_tap(ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id", "")
        owner = journeys.owner(team, body["user"]["id"])
        tapped = home.parse_action(str(action.get("action_id") or ""), str(action.get("value") or ""))
        journeys.spawn_for(owner, pressed(tab, client, owner, tapped))


async def pressed(tab: HomeTab, client: AsyncWebClient, owner: OwnerKey, tapped: tuple[str, int | None] | None) -> None:
    journeys = tab.journeys
    try:
        if tapped is not None:
            kind, journey_id = tapped
            dm = await journeys.dm(client, owner)
            await journeys.guarded(client, owner, dm, run(journeys, client, owner, dm, kind, journey_id))
    finally:
        await tab.quietly(client, owner)


async def run(journeys: SlackJourneys, client: AsyncWebClient, owner: OwnerKey, dm: str, kind: str, journey_id: int | None) -> None:
    respond = _into(client, dm)
    if kind == "start" or journey_id is None:
        await command.start(journeys, client, owner, "", None)
    elif kind == "open":
        await command.run(journeys, client, owner, dm, "open", str(journey_id), respond)
    elif kind == "export":
        lang = await journeys.lang(owner, client)
        await journeys.show(client, owner, dm, home_app.export(journeys.app, owner, journey_id, lang))
    elif kind == "review":
        if await asyncio.to_thread(journeys.app.current_journey_id, owner) != journey_id:
            # open it first; the review asks its own questions, so the interview's is left out
            opened = journeys.turn(client, owner, Command("open", str(journey_id)))
            await journeys.show(client, owner, dm, opened, skip_questions=True)
            if await asyncio.to_thread(journeys.app.current_journey_id, owner) != journey_id:
                return  # not the owner's journey: the engine said so
        await command.run(journeys, client, owner, dm, "review", "", respond)


def _into(client: AsyncWebClient, dm: str) -> Respond:
    """A `respond` for the commands' code: from the Home tab there is no message to answer, so what
    would be ephemeral is posted in the DM (in practice the DM path never uses it)."""

    async def respond(text: str = "", blocks: list[render.Block] | None = None, **_: Any) -> None:
        await client.chat_postMessage(channel=dm, text=render.fallback(text), blocks=blocks or None, **render.NO_UNFURL)

    return respond
