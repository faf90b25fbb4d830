"""What the Slack listeners share: owner identity, language, DMs, posting replies, summaries, files.

The listeners (commands/, events/, actions/) translate Slack payloads into `bot.events`
and call `JourneyService`; this module turns the neutral replies into Slack messages.
No interview logic lives here.
"""
from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable

import aiohttp

import prompts
from bot.chart import emotion_curve_png
from bot.events import Event
from bot.journey import JourneyView
from bot.replies import Reply
from handlers.service import JourneyNotFound, JourneyService, OwnerKey, StoreUnavailable
from handlers.slack import render
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from store.sharing import DISAGREEMENT, Sharing, team_rows

log = logging.getLogger(__name__)

PLATFORM = "slack"
Respond = Callable[..., Awaitable[Any]]


@dataclass
class SlackJourneys:
    """The adapter's state: the service, the sharing repository and small caches."""

    service: JourneyService
    sharing: Sharing = field(init=False)
    _dm: dict[tuple[str, str], str] = field(default_factory=dict, init=False)
    _locale: dict[tuple[str, str], str | None] = field(default_factory=dict, init=False)
    _background: set[asyncio.Task[Any]] = field(default_factory=set, init=False)
    _locks: "weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock]" = field(default_factory=weakref.WeakValueDictionary, init=False)

    def __post_init__(self) -> None:
        self.sharing = Sharing(self.service.repo.engine)

    # -- identity and language ----------------------------------------------------
    @staticmethod
    def owner(team_id: str, user_id: str) -> OwnerKey:
        """Journeys belong to the workspace: the same person in another workspace is someone else."""
        return OwnerKey(PLATFORM, team_id, user_id)

    async def lang(self, owner: OwnerKey, client: AsyncWebClient | None = None) -> str:
        try:
            stored = await asyncio.to_thread(self.service.repo.language, owner)
        except StoreUnavailable:
            stored = None
        if stored:
            return stored
        hint = await self.locale(client, owner) if client is not None else None
        return prompts.normalise_language(hint)

    async def locale(self, client: AsyncWebClient, owner: OwnerKey) -> str | None:
        """The Slack user's locale (users.info include_locale), cached; None when unknown."""
        key = (owner.workspace, owner.user_id)
        if key not in self._locale:
            try:
                info = await client.users_info(user=owner.user_id, include_locale=True)
                self._locale[key] = (info.get("user") or {}).get("locale")
            except SlackApiError as exc:
                log.info("users.info failed: %s", exc.response.get("error"))
                return None
        return self._locale[key]

    async def dm(self, client: AsyncWebClient, owner: OwnerKey) -> str:
        """The direct-message channel between the bot and the owner (conversations.open)."""
        key = (owner.workspace, owner.user_id)
        if key not in self._dm:
            opened = await client.conversations_open(users=owner.user_id)
            self._dm[key] = opened["channel"]["id"]
        return self._dm[key]

    async def download(self, client: AsyncWebClient, file: dict[str, Any]) -> str:
        """The text of a file a user shared with the bot (Slack serves it to the bot token only)."""
        url = file.get("url_private_download") or file.get("url_private")
        async with aiohttp.ClientSession() as session:
            async with session.get(url, headers={"Authorization": f"Bearer {client.token}"}) as response:
                response.raise_for_status()
                data = await response.read()
        return data.decode("utf-8", errors="replace")

    async def send_reminders(self, client: AsyncWebClient, workspace: str) -> int:
        """Review reminders due for people of this workspace, each claimed by one process only."""
        due = await asyncio.to_thread(self.service.reminders, "slack", workspace=workspace)
        for owner, text in due:
            await client.chat_postMessage(channel=await self.dm(client, owner), text=render.escape(text))
        return len(due)

    async def reminder_loop(self, client: AsyncWebClient, interval: float) -> None:
        auth = await client.auth_test()
        workspace = str(auth.get("team_id") or "")
        while True:
            try:
                await self.send_reminders(client, workspace)
            except Exception:  # a failed round is retried at the next one
                log.warning("sending review reminders failed", exc_info=True)
            await asyncio.sleep(interval)

    def remember_dm(self, owner: OwnerKey, channel: str) -> None:
        if channel.startswith("D"):
            self._dm[(owner.workspace, owner.user_id)] = channel

    # -- running work after the acknowledgement --------------------------------------
    def spawn(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run slow work in the background (the HTTP answer to Slack has already gone)."""
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._done)
        return task

    def spawn_for(self, owner: OwnerKey, work: Awaitable[Any]) -> asyncio.Task[Any]:
        """Like `spawn`, but one owner's work runs one at a time, in the order Slack delivered it
        (two quick messages must not be recorded the other way round)."""
        return self.spawn(self._serially(owner, work))

    async def _serially(self, owner: OwnerKey, work: Awaitable[Any]) -> Any:
        key = (owner.workspace, owner.user_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        async with lock:
            return await work

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background Slack work failed", exc_info=task.exception())

    async def drain(self) -> None:
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    # -- the conversation -------------------------------------------------------------
    async def handle(self, client: AsyncWebClient, owner: OwnerKey, event: Event, *, dedup_key: str | None = None) -> list[Reply]:
        hint = await self.locale(client, owner)
        return await self.service.ahandle(owner, event, dedup_key=dedup_key, lang_hint=hint)

    async def post(self, client: AsyncWebClient, channel: str, blocks: list[render.Block], text: str) -> list[str]:
        """Post blocks, split over several messages when there are more than 50. Returns the ts.

        `text` is the notification text, already mrkdwn (escape owner text before)."""
        stamps: list[str] = []
        pages = render.paginate(blocks) or [[]]
        for index, page in enumerate(pages):
            fallback = text if index == 0 else text  # notification text for every part
            result = await client.chat_postMessage(channel=channel, text=render.fallback(fallback), blocks=page or None)
            stamps.append(result["ts"])
        return stamps

    async def post_replies(
        self,
        client: AsyncWebClient,
        owner: OwnerKey,
        channel: str,
        replies: Iterable[Reply],
        *,
        respond: Respond | None = None,
        skip_questions: bool = False,
    ) -> None:
        """Render neutral replies in `channel` (the DM). Info and errors go to `respond` when given."""
        replies = list(replies)
        lang = await self.lang(owner, client)
        for reply in replies:
            if reply.type in ("summary", "export"):
                if reply.text:
                    await self._say(client, channel, reply, lang, respond)
                if reply.journey_id is not None:
                    if reply.type == "summary":
                        await self.deliver_summary(client, owner, reply.journey_id, channel, lang)
                    else:
                        await self.deliver_export(client, owner, reply.journey_id, channel, lang)
                continue
            if reply.type == "forgotten":
                await asyncio.to_thread(self.sharing.forget_contributor, PLATFORM, owner.workspace, owner.user_id)
            if reply.type == "question":
                if skip_questions:
                    continue
                await self.post(client, channel, render.question_blocks(lang, reply), render.escape(reply.text))
                continue
            await self._say(client, channel, reply, lang, respond)

    async def _say(self, client: AsyncWebClient, channel: str, reply: Reply, lang: str, respond: Respond | None) -> None:
        blocks = render.text_blocks(reply)
        if respond is not None and len(blocks) <= render.MAX_BLOCKS:
            await respond(text=render.fallback(render.escape(reply.text)), blocks=blocks, response_type="ephemeral", replace_original=False)
            return
        await self.post(client, channel, blocks, render.escape(reply.text))

    # -- summary and files --------------------------------------------------------------
    async def deliver_summary(self, client: AsyncWebClient, owner: OwnerKey, journey_id: int, channel: str, lang: str) -> None:
        """The Block Kit summary, then the markdown file and the emotion curve as uploads."""
        view = await asyncio.to_thread(self.service.view, owner, journey_id)
        report = await self.service.report_for(view)
        team = await self.team_blocks(view, lang)
        blocks = render.report_blocks(lang, report, view.title, team)
        title = render.t(lang, "report.header", title=render.escape(view.title))
        await self.post(client, channel, blocks, title)
        export = self.service.markdown(view, report)
        await self.upload(client, channel, export.filename, export.data, render.t(lang, "file_title"))
        await self.upload_chart(client, channel, view, lang)

    async def deliver_export(self, client: AsyncWebClient, owner: OwnerKey, journey_id: int, channel: str, lang: str) -> None:
        export = await self.service.aexport(owner, journey_id)
        await self.upload(client, channel, export.filename, export.data, render.t(lang, "file_title"))

    async def upload_chart(self, client: AsyncWebClient, channel: str, view: JourneyView, lang: str) -> None:
        png = await asyncio.to_thread(emotion_curve_png, view, lang)
        await self.upload(client, channel, "emotion-curve.png", png, render.t(lang, "chart_title"), comment=render.t(lang, "chart_comment"))

    async def upload(self, client: AsyncWebClient, channel: str, filename: str, data: bytes, title: str, *, comment: str | None = None) -> None:
        kwargs: dict[str, Any] = {"initial_comment": comment} if comment else {}
        await client.files_upload_v2(channel=channel, filename=filename, file=data, title=title, **kwargs)

    async def team_blocks(self, view: JourneyView, lang: str) -> list[render.Block]:
        if view.id is None:
            return []
        contributions = await asyncio.to_thread(self.sharing.contributions, view.id)
        rows, added = team_rows(view, contributions)
        return render.team_blocks(lang, rows, added, DISAGREEMENT)

    # -- errors -------------------------------------------------------------------------
    async def tell(
        self, client: AsyncWebClient, owner: OwnerKey, where: str, key: str, respond: Respond | None = None, /, **values: Any
    ) -> None:
        """One Slack adapter text (slack.yaml) to the owner: ephemeral via `respond`, else in `channel`."""
        lang = await self.lang(owner, client)
        text = render.t(lang, key, **values)
        if respond is not None:
            await respond(text=render.fallback(text), blocks=render.sections(text), response_type="ephemeral", replace_original=False)
        else:
            await self.post(client, where, render.sections(text), text)

    async def guarded(self, client: AsyncWebClient, owner: OwnerKey, channel: str, work: Awaitable[Any], respond: Respond | None = None) -> None:
        """Run `work`; when it fails, tell the owner instead of going silent."""
        try:
            await work
        except StoreUnavailable:
            await self._safe_tell(client, owner, channel, "store_down", respond)
        except JourneyNotFound:
            await self._safe_tell(client, owner, channel, "contribute.denied", respond)
        except Exception:
            log.exception("Slack work failed")
            await self._safe_tell(client, owner, channel, "error", respond)

    async def _safe_tell(self, client: AsyncWebClient, owner: OwnerKey, channel: str, key: str, respond: Respond | None) -> None:
        try:
            await self.tell(client, owner, channel, key, respond)
        except Exception:
            log.exception("could not tell the owner about a failure")

    # -- channel membership --------------------------------------------------------------
    async def is_member(self, client: AsyncWebClient, channel: str, user_id: str) -> bool | None:
        """Whether `user_id` is in `channel`; None when the bot cannot see the members."""
        cursor: str | None = None
        try:
            while True:
                page = await client.conversations_members(channel=channel, limit=1000, cursor=cursor)
                if user_id in (page.get("members") or []):
                    return True
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    return False
        except SlackApiError as exc:
            log.info("conversations.members(%s) failed: %s", channel, exc.response.get("error"))
            return None
