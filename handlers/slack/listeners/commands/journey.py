"""`/journey [subcommand]`: acknowledged at once, the work runs after the acknowledgement."""
from __future__ import annotations

import asyncio
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from app import JourneyNotFound, OwnerKey, ShareDenied
from app.outgoing import Outgoing
from bot.events import Command, Start, command_name
from handlers.slack import render
from handlers.slack.core import Respond, SlackJourneys
from handlers.slack.listeners.actions import contribute as contrib

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
        channel = command.get("channel_id", "")  # may be a DM between two people: never taken for the bot's DM
        sub, arg = parse(command.get("text", ""))
        journeys.spawn_for(owner, journeys.guarded(client, owner, channel, run(journeys, client, owner, channel, sub, arg, respond), respond))


async def run(journeys: SlackJourneys, client: AsyncWebClient, owner: OwnerKey, channel: str, sub: str, arg: str, respond: Respond) -> None:
    in_dm = channel == await journeys.dm(client, owner)  # the bot's own DM, not any direct message
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
    if await journeys.known_language(owner) is None:
        # Someone who never talked to the bot (a teammate, say): settle their language from their
        # Slack locale first, so the command is answered instead of a language question.
        async for _ in journeys.turn(client, owner, Start(lang_hint=await journeys.locale(client, owner) or "en")):
            pass
    items = journeys.turn(client, owner, Command(sub, arg))
    if sub in ("summary", "export"):
        where = Delivery(journeys, client, owner, channel, respond)
        await journeys.show(client, owner, channel, items, respond=None if in_dm else respond, skip_questions=not in_dm, target=where)
        return
    dm = await journeys.dm(client, owner)
    await journeys.show(client, owner, dm, items, respond=None if in_dm else respond, skip_questions=(sub in INFORMING and not in_dm))


async def start(journeys: SlackJourneys, client: AsyncWebClient, owner: OwnerKey, sub: str, respond: Respond | None) -> None:
    """Start or resume the interview in the DM (conversations.open + chat.postMessage)."""
    dm = await journeys.dm(client, owner)
    hint = await journeys.locale(client, owner)
    known_lang = await journeys.known_language(owner)
    event = Command("new") if sub == "new" and known_lang else Start(lang_hint=hint)
    if respond is not None:
        await journeys.tell(client, owner, dm, "dm_opened", respond)
    await journeys.show(client, owner, dm, journeys.turn(client, owner, event))


class Delivery:
    """Where a summary or an export lands: where it was asked for when that is the DM or a channel the
    journey is shared with (the bot is in it and teammates may see it); otherwise in the owner's DM,
    with a note in the channel."""

    def __init__(self, journeys: SlackJourneys, client: AsyncWebClient, owner: OwnerKey, channel: str, respond: Respond) -> None:
        self.journeys, self.client, self.owner, self.channel, self.respond = journeys, client, owner, channel, respond
        self.chosen: dict[int | None, str] = {}

    async def __call__(self, item: Outgoing) -> str:
        journey_id = item.journey_id
        if journey_id not in self.chosen:
            self.chosen[journey_id] = await self._pick(journey_id)
        return self.chosen[journey_id]

    async def _pick(self, journey_id: int | None) -> str:
        if self.channel.startswith("D"):
            return self.channel
        if journey_id is not None and await asyncio.to_thread(self.journeys.app.team.shared_in, self.owner, journey_id, self.channel):
            return self.channel
        dm = await self.journeys.dm(self.client, self.owner)
        await self.journeys.tell(self.client, self.owner, self.channel, "delivered_dm", self.respond)
        return dm


async def share(journeys: SlackJourneys, client: AsyncWebClient, owner: OwnerKey, arg: str, respond: Respond) -> None:
    match = CHANNEL_MENTION.search(arg)
    if not match:
        await journeys.tell(client, owner, "", "share.usage", respond)
        return
    target = match.group(1)
    journey_id = await asyncio.to_thread(journeys.app.current_journey_id, owner)
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
        shared = await asyncio.to_thread(journeys.app.team.share, owner, target, journey_id)
    except (ShareDenied, JourneyNotFound):
        await journeys.tell(client, owner, "", "share.no_journey", respond)
        return
    title = render.escape(shared.share.title)
    if not shared.created:
        await journeys.tell(client, owner, "", "share.already", respond, title=title, channel=target)
        return
    await journeys.tell(client, owner, "", "share.done", respond, title=title, channel=target)
    lang = await journeys.lang(owner, client)
    text = render.t(lang, "share.announce", owner=owner.user_id, title=title)
    await journeys.post(client, target, render.sections(text), text)
