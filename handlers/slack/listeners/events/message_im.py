"""Answers typed in the DM (message.im). Bot messages, edits and other subtypes are ignored."""
from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

import asyncio

from bot.events import Command, Start, Text
from handlers.slack import render
from handlers.slack.core import SlackJourneys


def register(app: AsyncApp, journeys: SlackJourneys) -> None:
    @app.event("message")
    async def direct_message(ack: Any, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        csv_file = _shared_csv(event)
        if event.get("channel_type") != "im" or (event.get("subtype") and csv_file is None) or event.get("bot_id") or not event.get("user"):
            return
        team = body.get("team_id") or event.get("team", "")
        owner = journeys.owner(team, event["user"])
        channel = event["channel"]
        journeys.remember_dm(owner, channel)
        text = render.unescape(event.get("text") or "")
        # Slack re-delivers an event it thinks failed (X-Slack-Retry-Num) with the same event_id.
        dedup = f"slack:{body.get('event_id')}" if body.get("event_id") else None

        async def work() -> None:
            known = await asyncio.to_thread(journeys.service.repo.language, owner)
            if known is None:
                # A first message without /journey: greet in the user's Slack language and ask the first question.
                hint = await journeys.locale(client, owner)
                replies = await journeys.handle(client, owner, Start(lang_hint=hint), dedup_key=dedup)
            elif csv_file is not None:
                # customers' survey answers as a CSV file: its text is what /results takes
                content = await journeys.download(client, csv_file)
                replies = await journeys.handle(client, owner, Command("results", content), dedup_key=dedup)
            else:
                replies = await journeys.handle(client, owner, Text(text), dedup_key=dedup)
            await journeys.post_replies(client, owner, channel, replies)

        journeys.spawn_for(owner, journeys.guarded(client, owner, channel, work()))


MAX_CSV_BYTES = 1_000_000


def _shared_csv(event: dict[str, Any]) -> dict[str, Any] | None:
    """The CSV file of a file_share message, if it is one (and not too large)."""
    if event.get("subtype") != "file_share":
        return None
    for file in event.get("files") or []:
        name = str(file.get("name") or "").lower()
        if (name.endswith(".csv") or file.get("filetype") == "csv") and int(file.get("size") or 0) <= MAX_CSV_BYTES:
            return file
    return None
