"""A tapped answer button in the DM: the question message loses its buttons, then the answer is recorded."""
from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.events import Choice
from app import OwnerKey
from handlers.slack import render
from handlers.slack.core import SlackJourneys

log = logging.getLogger(__name__)


def register(app: AsyncApp, journeys: SlackJourneys) -> None:
    @app.action(re.compile(rf"^{re.escape(render.ANSWER_ACTION)}\."))
    async def answer_tap(ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id", "")
        owner = journeys.owner(team, body["user"]["id"])
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id", "")
        journeys.remember_dm(owner, channel)
        journeys.spawn_for(owner, journeys.guarded(client, owner, channel, tapped(journeys, client, owner, channel, body, action)))


async def tapped(journeys: SlackJourneys, client: AsyncWebClient, owner: OwnerKey, channel: str, body: dict[str, Any], action: dict[str, Any]) -> None:
    try:
        step, value = render.parse_answer_value(action.get("value") or "")
    except (ValueError, KeyError, TypeError):
        return
    message = body.get("message") or {}
    ts = message.get("ts") or (body.get("container") or {}).get("message_ts", "")
    label = (action.get("text") or {}).get("text") or render.label_of(message.get("blocks") or [], action.get("action_id", ""), value)
    label = label.removeprefix("✔ ")
    lang = await journeys.lang(owner, client)
    if ts:
        # Show the answer without buttons first, so a second tap has nothing to press.
        question = message.get("blocks") or []
        try:
            await client.chat_update(
                channel=channel,
                ts=ts,
                text=render.fallback(render.t(lang, "chosen", answer=render.escape(label))),
                blocks=render.answered_blocks(lang, question, label),
            )
        except SlackApiError as exc:
            log.info("chat.update failed: %s", exc.response.get("error"))
    # One question message can be answered once: a double tap or a re-delivery is a no-op.
    dedup = f"slack:tap:{owner.workspace}:{channel}:{ts}" if ts else f"slack:tap:{action.get('action_ts')}"
    await journeys.show(client, owner, channel, journeys.turn(client, owner, Choice(value, step), dedup_key=dedup))
