"""`/journey [subcommand]`: acknowledged at once, the work runs after the acknowledgement."""
from __future__ import annotations

import asyncio
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.events import Command, Start, command_name
from handlers.service import OwnerKey
from handlers.slack import render
from handlers.slack.core import PLATFORM, Respond, SlackJourneys
from handlers.slack.listeners.actions import contribute as contrib
from store.sharing import ShareDenied

# Engine commands that may change the open question: its new question goes to the DM.
MOVING = {"new", "start", "back", "skip", "open", "language", "forget", "cancel", "review", "todo", "survey", "results"}
# Engine commands that only inform: from a channel, do not re-post the question in the DM.
INFORMING = {"status", "list", "summary", "export"}
SLACK_ONLY = {"share", "contribute", "add", "help"}
CHANNEL_MENTION = re.compile(r"<#([A-Z0-9]+)(?:\|[^>]*)?>")


def parse(text: str) -> tuple[str, str]:
    """(subcommand, argument). '' for no subcommand; unknown words stay as they are."""
    head, _, arg = (text or "").strip().partition(" ")
    word = head.lower().lstrip("/")
    if not word:
        return "", ""
    if word in SLACK_ONLY:
        return word, arg.strip()
    name = command_name(word)
    return (name or word), arg.strip()


def register(app: AsyncApp, journeys: SlackJourneys) -> None:
    @app.command("/journey")
    async def journey_command(ack: Any, command: dict[str, Any], client: AsyncWebClient, respond: Respond) -> None:
        await ack()  # within Slack's 3 seconds, before any database or LLM work
        owner = journeys.owner(command["team_id"], command["user_id"])
        channel = command.get("channel_id", "")
        journeys.remember_dm(owner, channel)
        sub, arg = parse(command.get("text", ""))
        journeys.spawn_for(owner, journeys.guarded(client, owner, channel, run(journeys, client, owner, channel, sub, arg, respond), respond))


async def run(journeys: SlackJourneys, client: AsyncWebClient, owner: OwnerKey, channel: str, sub: str, arg: str, respond: Respond) -> None:
    in_dm = channel.startswith("D")
    if sub in ("", "start", "new"):
        await start(journeys, client, owner, sub, respond if not in_dm else None)
        return
    if sub == "help":
        await journeys.tell(client, owner, channel, "help", respond)
        return
    if sub == "share":
        await share(journeys, client, owner, arg, respond)
        return
    if sub == "contribute":
        await contrib.show_journeys(journeys, client, owner, channel, respond, arg)
        return
    if sub == "add":
        await contrib.add_touchpoint(journeys, client, owner, channel, arg, respond)
        return
    if sub not in MOVING | INFORMING:
        await journeys.tell(client, owner, channel, "help", respond)
        return
    if await asyncio.to_thread(journeys.service.repo.language, owner) is None:
        # Someone who never talked to the bot (a teammate, say): settle their language from their
        # Slack locale first, so the command is answered instead of a language question.
        await journeys.handle(client, owner, Start(lang_hint=await journeys.locale(client, owner) or "en"))
    replies = await journeys.handle(client, owner, Command(sub, arg))
    if sub in ("summary", "export"):
        target = await delivery_channel(journeys, client, owner, channel, replies)
        if target != channel and not in_dm:
            await journeys.tell(client, owner, channel, "delivered_dm", respond)
        await journeys.post_replies(client, owner, target, replies, respond=None if target == channel and in_dm else respond, skip_questions=not in_dm)
        return
    dm = await journeys.dm(client, owner)
    await journeys.post_replies(
        client,
        owner,
        dm,
        replies,
        respond=None if in_dm else respond,
        skip_questions=(sub in INFORMING and not in_dm),
    )


async def start(journeys: SlackJourneys, client: AsyncWebClient, owner: OwnerKey, sub: str, respond: Respond | None) -> None:
    """Start or resume the interview in the DM (conversations.open + chat.postMessage)."""
    dm = await journeys.dm(client, owner)
    hint = await journeys.locale(client, owner)
    known_lang = await asyncio.to_thread(journeys.service.repo.language, owner)
    if sub == "new" and known_lang:
        replies = await journeys.handle(client, owner, Command("new"))
    else:
        replies = await journeys.handle(client, owner, Start(lang_hint=hint))
    if respond is not None:
        await journeys.tell(client, owner, dm, "dm_opened", respond)
    await journeys.post_replies(client, owner, dm, replies)


async def delivery_channel(journeys: SlackJourneys, client: AsyncWebClient, owner: OwnerKey, channel: str, replies: list[Any]) -> str:
    """Summaries land where they were asked for when that is the DM or a channel the journey is shared
    with (the bot is in it and teammates may see it); otherwise in the DM."""
    if channel.startswith("D"):
        return channel
    journey_ids = {r.journey_id for r in replies if r.type in ("summary", "export") and r.journey_id is not None}
    for journey_id in journey_ids:
        shares = await asyncio.to_thread(journeys.sharing.shares_of_journey, journey_id)
        if any(s.channel_id == channel and s.workspace == owner.workspace for s in shares):
            return channel
    return await journeys.dm(client, owner)


async def share(journeys: SlackJourneys, client: AsyncWebClient, owner: OwnerKey, arg: str, respond: Respond) -> None:
    match = CHANNEL_MENTION.search(arg)
    if not match:
        await journeys.tell(client, owner, "", "share.usage", respond)
        return
    target = match.group(1)
    journey_id = await asyncio.to_thread(journeys.service.repo.current_journey_id, owner)
    if journey_id is None:
        await journeys.tell(client, owner, "", "share.no_journey", respond)
        return
    member = await journeys.is_member(client, target, owner.user_id)
    if member is None:
        await journeys.tell(client, owner, "", "share.not_member", respond, channel=target)
        return
    if not member:
        await journeys.tell(client, owner, "", "share.owner_not_member", respond, channel=target)
        return
    try:
        info, created = await asyncio.to_thread(journeys.sharing.share, PLATFORM, owner.workspace, owner.user_id, journey_id, target)
    except ShareDenied:
        await journeys.tell(client, owner, "", "share.no_journey", respond)
        return
    title = render.escape(info.title)
    if not created:
        await journeys.tell(client, owner, "", "share.already", respond, title=title, channel=target)
        return
    await journeys.tell(client, owner, "", "share.done", respond, title=title, channel=target)
    lang = await journeys.lang(owner, client)
    text = render.t(lang, "share.announce", owner=owner.user_id, title=title)
    await journeys.post(client, target, render.sections(text), text)
