"""Answers typed in the DM (message.im), or said in a voice clip shared there, customers' survey
answers shared there as a CSV file, and the owner's edits of their own messages (message_changed).
Bot messages and other subtypes are ignored."""
from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from app import OwnerKey
from bot.events import Command, EditedText, Event, Start, Text
from handlers.kit.intake import MAX_CSV_BYTES, FileRejected
from handlers.kit.voice import is_audio
from handlers.slack import render
from handlers.slack.core import SlackJourneys

log = logging.getLogger(__name__)


def register(app: AsyncApp, journeys: SlackJourneys) -> None:
    @app.event("message")
    async def direct_message(ack: Any, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        if event.get("subtype") == "message_changed":
            edited(journeys, body, event, client)
            return
        shared = _shared_file(event)
        if event.get("channel_type") != "im" or (event.get("subtype") and shared is None) or event.get("bot_id") or not event.get("user"):
            return
        team = body.get("team_id") or event.get("team", "")
        owner = journeys.owner(team, event["user"])
        channel = event["channel"]
        journeys.remember_dm(owner, channel)
        text = render.unescape(event.get("text") or "")
        # Slack re-delivers an event it thinks failed (X-Slack-Retry-Num) with the same event_id.
        dedup = f"slack:{body.get('event_id')}" if body.get("event_id") else None
        journeys.spawn_for(
            owner, journeys.guarded(client, owner, channel, work(journeys, client, owner, channel, text, shared, dedup, event.get("ts")))
        )


def edited(journeys: SlackJourneys, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
    """The owner edited one of their messages in the DM: it may change the answer it carried. Edits of
    the bot's own messages, and changes Slack makes itself (a link preview added), are not edits."""
    message = event.get("message") or {}
    before = event.get("previous_message") or {}
    user = message.get("user")
    if (
        event.get("channel_type") != "im"
        or not user
        or message.get("bot_id")
        or message.get("subtype")
        or not message.get("edited")
        or not message.get("ts")
        or message.get("text") == before.get("text")
    ):
        return
    team = body.get("team_id") or event.get("team") or message.get("team", "")
    owner = journeys.owner(team, user)
    channel = event["channel"]
    journeys.remember_dm(owner, channel)
    change = EditedText(render.unescape(message.get("text") or ""), str(message["ts"]))
    dedup = f"slack:{body.get('event_id')}" if body.get("event_id") else None
    journeys.spawn_for(owner, journeys.guarded(client, owner, channel, show(journeys, client, owner, channel, change, dedup)))


async def show(journeys: SlackJourneys, client: AsyncWebClient, owner: OwnerKey, channel: str, event: Event, dedup: str | None) -> None:
    await journeys.show(client, owner, channel, journeys.turn(client, owner, event, dedup_key=dedup, address={"channel": channel}))


async def work(
    journeys: SlackJourneys,
    client: AsyncWebClient,
    owner: OwnerKey,
    channel: str,
    text: str,
    shared: dict[str, Any] | None,
    dedup: str | None,
    ts: str | None = None,
) -> None:
    event: Event
    if await journeys.known_language(owner) is None:
        # A first message without /journey: greet in the user's Slack language and ask the first question.
        event = Start(lang_hint=await journeys.locale(client, owner))
    elif shared is not None and is_audio(shared := await complete(journeys, client, shared)):
        await journeys.hear(client, owner, channel, shared, dedup)  # a voice clip: shown back as words to confirm
        return
    elif shared is not None:
        # customers' survey answers as a CSV file: its text is what /results takes
        try:
            content = await journeys.read_csv(client, shared)
        except FileRejected as exc:
            limit = f"{MAX_CSV_BYTES / 1_000_000:g} MB"
            await journeys.tell(client, owner, channel, f"file.{exc.reason}", None, limit=limit)
            return
        event = Command("results", content)
    else:
        event = Text(text, message_id=ts)
    await journeys.show(client, owner, channel, journeys.turn(client, owner, event, dedup_key=dedup, address={"channel": channel}))


async def complete(journeys: SlackJourneys, client: AsyncWebClient, file: dict[str, Any]) -> dict[str, Any]:
    """The whole file object (files.info for the short form some events carry); as given when Slack refuses."""
    try:
        return await journeys.complete_file(client, file) or file
    except SlackApiError as exc:
        log.info("files.info failed: %s", exc.response.get("error"))
        return file


def _shared_file(event: dict[str, Any]) -> dict[str, Any] | None:
    """The file of a file_share message (its first CSV, else its first file), if it is one."""
    if event.get("subtype") != "file_share":
        return None
    files = [f for f in event.get("files") or [] if isinstance(f, dict)]
    csvs = [f for f in files if str(f.get("name") or "").lower().endswith(".csv") or f.get("filetype") == "csv"]
    return (csvs or files)[0] if (csvs or files) else None
