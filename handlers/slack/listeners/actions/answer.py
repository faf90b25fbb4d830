"""A tapped answer button in the DM: the question message loses its buttons, then the answer is recorded.

A touchpoint's rating chosen in a ratings question (`rate:<index>=<score>`) is different: the
engine asks the same question again with the new rating, and that message is updated in place,
so the owner rates every touchpoint of the stage in one message and then taps Done."""
from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.events import Choice, same_step
from bot.replies import Reply
from app import OwnerKey
from app.outgoing import Outgoing
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
    raw = action.get("value") or (action.get("selected_option") or {}).get("value") or ""  # a button, or a select
    try:
        step, value = render.parse_answer_value(raw)
    except (ValueError, KeyError, TypeError):
        return
    message = body.get("message") or {}
    ts = message.get("ts") or (body.get("container") or {}).get("message_ts", "")
    if value.startswith(render.RATE_PREFIX):
        await rated(journeys, client, owner, channel, ts, message, action, step, value)
        return
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


async def rated(
    journeys: SlackJourneys,
    client: AsyncWebClient,
    owner: OwnerKey,
    channel: str,
    ts: str,
    message: dict[str, Any],
    action: dict[str, Any],
    step: str | None,
    value: str,
) -> None:
    """One touchpoint rated: the question comes back with the rating and replaces the message it was
    chosen in. Each choice is its own event (keyed by its action_ts, so a re-delivery is a no-op)."""
    dedup = f"slack:rate:{owner.workspace}:{channel}:{ts}:{action.get('action_ts') or value}"
    items: list[Outgoing] = [item async for item in journeys.turn(client, owner, Choice(value, step), dedup_key=dedup)]
    replies = [i for i in items if isinstance(i, Reply)]
    errors = [r for r in replies if r.type == "error"]
    again = [r for r in replies if r.type == "question" and r.step and same_step(step, r.step)]
    if ts and again and not errors:
        question = again[-1]
        try:
            await client.chat_update(
                channel=channel, ts=ts, text=render.fallback(render.escape(question.text)), blocks=render.question_blocks(question.lang, question)
            )
            items = [i for i in items if i is not question]
        except SlackApiError as exc:  # the message is gone: the question is posted anew
            log.info("chat.update failed: %s", exc.response.get("error"))
    elif ts and replies:
        # Not this question any more (already answered, or another one is open): its selects go,
        # and the engine's answer shows where the interview is.
        kept = [render.without_controls(b) for b in message.get("blocks") or [] if b.get("type") in ("section", "context", "header")]
        if kept:
            try:
                await client.chat_update(channel=channel, ts=ts, text=render.fallback(message.get("text") or "…"), blocks=kept)
            except SlackApiError as exc:
                log.info("chat.update failed: %s", exc.response.get("error"))
    for item in items:
        await journeys.render(client, owner, channel, item)
