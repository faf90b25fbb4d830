"""What the Slack listeners share: owner identity, language, DMs, posting what a turn hands back,
files, background work.

The listeners (commands/, events/, actions/) translate Slack payloads into `bot.events` and call
the application layer (`app.Journeys`); this module renders its neutral items as Slack messages
and uploads. No interview logic and no database access live here.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, AsyncIterable, AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

import prompts
from app import JourneyNotFound, Journeys, OwnerKey, Reminder, ShareDenied, StoreUnavailable
from app.outgoing import FileItem, ImageItem, Outgoing, ReportItem
from bot.events import Event
from bot.replies import Reply
from handlers.kit import OwnerQueue, ReminderLoop
from handlers.kit.outbox import OutboxLoop, RetryLater, Undeliverable
from handlers.kit.signals import Deadline, Periodic, finish
from handlers.kit.intake import (
    DOWNLOAD_TYPES,
    MAX_CSV_BYTES,
    FileRejected,
    accept_csv,
    check_response,
    decode_text,
    declared_size,
    looks_like_html,
    read_limited,
)
from handlers.kit.voice import AUDIO_TYPES, capped, slack_note
from handlers.slack import render
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

PLATFORM = "slack"
SLACK_FILE_HOSTS = ("files.slack.com",)  # where Slack serves files users shared (url_private)
SLACK_EDGE_DOMAINS = (".slack.com", ".slack-edge.com")  # where it may redirect such a download
MAX_REDIRECTS = 3
DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=10, sock_read=20)
Respond = Callable[..., Awaitable[Any]]
Target = Callable[[Outgoing], Awaitable[str]]


# Errors after which a post to the DM can never succeed: the reply is dropped, not retried.
GONE = frozenset({"channel_not_found", "is_archived", "account_inactive", "user_disabled", "cannot_dm_bot", "not_in_channel", "invalid_auth", "token_revoked"})

@dataclass
class SlackJourneys:
    """The adapter's state: the application layer, per-owner ordering and small caches."""

    app: Journeys
    queue: OwnerQueue = field(default_factory=OwnerQueue, init=False)
    _dm: dict[tuple[str, str], str] = field(default_factory=dict, init=False)
    _locale: dict[tuple[str, str], str | None] = field(default_factory=dict, init=False)
    _background: set[asyncio.Task[Any]] = field(default_factory=set, init=False)
    _loops: list[Periodic] = field(default_factory=list, init=False)  # reminders and the outbox, once started
    _loops_task: asyncio.Task[None] | None = field(default=None, init=False)
    outbox_interval: float = 1.0  # seconds between looks for DM replies a failed post left undelivered

    # -- identity and language ----------------------------------------------------
    @staticmethod
    def owner(team_id: str, user_id: str) -> OwnerKey:
        """Journeys belong to the workspace: the same person in another workspace is someone else."""
        return OwnerKey(PLATFORM, team_id, user_id)

    async def known_language(self, owner: OwnerKey) -> str | None:
        """The language the owner settled with the bot; None for someone who never talked to it."""
        try:
            return await asyncio.to_thread(self.app.language, owner)
        except StoreUnavailable:
            return None

    async def lang(self, owner: OwnerKey, client: AsyncWebClient | None = None) -> str:
        stored = await self.known_language(owner)
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

    def remember_dm(self, owner: OwnerKey, channel: str) -> None:
        if channel.startswith("D"):
            self._dm[(owner.workspace, owner.user_id)] = channel

    # -- files owners send ----------------------------------------------------------------
    async def read_csv(self, client: AsyncWebClient, file: dict[str, Any]) -> str:
        """The text of a CSV file a user shared with the bot. FileRejected when it is not a CSV, is
        larger than the limit (declared or actually sent), is not on Slack's file host, comes back as
        an HTML page (Slack's answer when the app lacks `files:read`) or cannot be read.

        A missing or unreadable `size` is unknown, not small: the download is capped all the same."""
        accept_csv(file.get("name"), file.get("mimetype"), declared_size(file.get("size")))
        data = await self.download(client, file, MAX_CSV_BYTES)
        if looks_like_html(data):  # a login page, whatever type it was sent as
            raise FileRejected("login_page")
        return decode_text(data)

    async def complete_file(self, client: AsyncWebClient, file: dict[str, Any]) -> dict[str, Any]:
        """The whole file object: an event may carry a short form (`file_access: check_file_info`,
        or no download URL) that files.info completes."""
        if file.get("file_access") != "check_file_info" and (file.get("url_private_download") or file.get("url_private")):
            return file
        info = await client.files_info(file=str(file.get("id") or ""))
        return dict(info.get("file") or {})

    async def download(
        self, client: AsyncWebClient, file: dict[str, Any], limit: int, *, types: frozenset[str] = DOWNLOAD_TYPES, wrong_type: str = "not_csv"
    ) -> bytes:
        """The bytes of a file a user shared, streamed from Slack's file host (or its edge hosts, after
        a redirect) and never more than `limit` of them held. FileRejected when it is elsewhere, not
        of one of `types` or an error page; FileTooLarge past the limit."""
        url = str(file.get("url_private_download") or file.get("url_private") or "")
        if not self.from_slack(client, url):
            raise FileRejected("elsewhere")  # the bot token goes to Slack only
        headers = {"Authorization": f"Bearer {client.token}"}
        async with aiohttp.ClientSession(timeout=DOWNLOAD_TIMEOUT) as session:
            for _ in range(MAX_REDIRECTS + 1):
                async with session.get(url, headers=headers, allow_redirects=False) as response:
                    if response.status in (301, 302, 303, 307, 308):
                        # Slack may hand the file out from its edge hosts; nowhere else, and the token stays behind
                        url = str(response.url.join(URL(response.headers.get("Location", ""))))
                        if not (self.from_slack(client, url) or _on_slack_edge(url)):
                            raise FileRejected("elsewhere")
                        headers = headers if urlsplit(url).hostname == urlsplit(str(response.url)).hostname else {}
                        continue
                    check_response(
                        response.status, response.headers.get("Content-Type"), response.content_length, limit, types=types, wrong_type=wrong_type
                    )
                    return await read_limited(_chunks(response.content), limit)
        raise FileRejected("failed")

    async def hear(self, client: AsyncWebClient, owner: OwnerKey, channel: str, file: dict[str, Any], dedup: str | None) -> None:
        """A voice clip or audio file shared in the DM: the application layer checks what Slack
        declares, has it downloaded (never past its size limit), transcribes it in the owner's
        language and asks the owner to confirm the words."""
        lang = await self.lang(owner, client)

        async def fetch(limit: int) -> bytes:
            download = self.download(client, file, limit, types=AUDIO_TYPES, wrong_type="failed")
            return await capped(download, errors=(aiohttp.ClientError,))

        hint = await self.locale(client, owner)
        heard = self.app.hear(owner, slack_note(file), fetch, lang=lang, dedup_key=dedup, lang_hint=hint, address={"channel": channel}, reshow=False)
        await self.show(client, owner, channel, heard)

    @staticmethod
    def from_slack(client: AsyncWebClient, url: str) -> bool:
        """Whether `url` is on Slack's own file host (or on the Web API's host, when SLACK_API_URL
        points somewhere else, as for Enterprise setups and tests), over HTTPS unless that host is local."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not host:
            return False
        api = urlsplit(client.base_url)
        if host in SLACK_FILE_HOSTS:
            return parts.scheme == "https"
        same_as_api = host == (api.hostname or "").lower() and parts.port == api.port and parts.scheme == api.scheme
        return same_as_api and (parts.scheme == "https" or host in ("127.0.0.1", "localhost", "::1"))

    # -- review reminders ------------------------------------------------------------------
    def reminder_loop(self, client: AsyncWebClient, workspace: str, interval: float) -> ReminderLoop:
        """The kit's reminder loop for this workspace, sending each reminder to the owner's DM."""

        async def send(reminder: Reminder) -> None:
            channel = await self.dm(client, reminder.owner)
            await client.chat_postMessage(channel=channel, text=render.fallback(render.escape(reminder.text)), **render.NO_UNFURL)

        return ReminderLoop(self.app, PLATFORM, send, interval=interval, workspace=workspace)

    def start_reminders(self, client: AsyncWebClient, interval: float) -> asyncio.Task[None] | None:
        """In the background, for the token's workspace: due review reminders every `interval`
        seconds, and DM replies left undelivered (the outbox) every `outbox_interval` seconds."""
        if interval <= 0 and self.outbox_interval <= 0:
            return None
        self._loops_task = asyncio.create_task(self._reminders(client, interval))
        return self._loops_task

    async def _reminders(self, client: AsyncWebClient, interval: float) -> None:
        while True:  # the workspace of the token first; Slack may be unreachable at start
            try:
                auth = await client.auth_test()
                break
            except Exception:
                log.warning("auth.test failed; review reminders start later", exc_info=True)
                await asyncio.sleep(interval if interval > 0 else self.outbox_interval)
        workspace = str(auth.get("team_id") or "")
        loops: list[Periodic] = []
        if interval > 0:
            loops.append(self.reminder_loop(client, workspace, interval))
        if self.outbox_interval > 0:
            loops.append(self.outbox_loop(client, workspace))
        self._loops = loops
        await asyncio.gather(*(loop.run() for loop in loops))

    def outbox_loop(self, client: AsyncWebClient, workspace: str) -> OutboxLoop:
        """DM replies stored with their turn but never posted (a failed post, a killed process)."""

        async def show(owner: OwnerKey, address: dict[str, Any], items: list[Outgoing]) -> str | None:
            ref: str | None = None
            try:
                for item in items:
                    ref = await self.render(client, owner, str(address["channel"]), item) or ref
            except SlackApiError as exc:
                error = str(exc.response.get("error") or "")
                if error == "ratelimited":
                    raise RetryLater(float(exc.response.headers.get("Retry-After", 1) or 1)) from None
                if error in GONE:
                    raise Undeliverable(error) from None
                raise
            return ref

        return OutboxLoop(self.app, PLATFORM, show, interval=self.outbox_interval, workspace=workspace)

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
        return self.spawn(self.queue.run((owner.workspace, owner.user_id), work))

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background Slack work failed", exc_info=task.exception())

    async def drain(self, timeout: float | None = None) -> None:
        """On shutdown: the reminder and outbox loops finish their pass, the work already accepted is
        done (Slack was told "ok"), then the receipts of what was shown are written. With `timeout`,
        what still runs when it is up is cancelled: a turn already committed keeps its undelivered
        replies in the outbox, which the next process sends."""
        deadline = Deadline(timeout)
        for loop in self._loops:
            loop.stop()
        if self._loops_task is not None and not self._loops:  # still waiting for auth.test: no pass to finish
            self._loops_task.cancel()

        async def wait() -> None:
            while self._background:
                await asyncio.gather(*list(self._background), return_exceptions=True)

        work = asyncio.ensure_future(wait())
        loops = asyncio.ensure_future(finish(self._loops_task, deadline.left()))
        if not await finish(work, deadline.left()):
            running = [task for task in self._background if not task.done()]
            log.warning("%d Slack tasks still running at shutdown were stopped; undelivered replies stay in the outbox", len(running))
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        await loops
        self._loops, self._loops_task = [], None
        try:
            await asyncio.to_thread(self.app.flush_delivered)
        except Exception:  # they are posted again by the next process: shown twice, never lost
            log.warning("could not record the last replies as delivered", exc_info=True)

    # -- the conversation -------------------------------------------------------------
    async def turn(
        self, client: AsyncWebClient, owner: OwnerKey, event: Event, *, dedup_key: str | None = None, address: dict[str, Any] | None = None
    ) -> AsyncIterator[Outgoing]:
        """The neutral items of one owner event, summaries and exports expanded. With an `address`
        (the DM) the replies go through the outbox: `show` marks each one delivered once posted.
        Slack also re-delivers an event whose acknowledgement was merely slow, so a re-delivery shows
        only replies still undelivered, never the question again."""
        hint = await self.locale(client, owner)
        async for item in self.app.turn(owner, event, dedup_key=dedup_key, lang_hint=hint, address=address, reshow=False):
            yield item

    async def post(self, client: AsyncWebClient, channel: str, blocks: list[render.Block], text: str) -> list[str]:
        """Post blocks, split over several messages when there are more than 50. Returns the ts.

        `text` is the notification text, already mrkdwn (escape owner text before)."""
        stamps: list[str] = []
        for page in render.paginate(blocks) or [[]]:
            result = await client.chat_postMessage(channel=channel, text=render.fallback(text), blocks=page or None, **render.NO_UNFURL)
            stamps.append(result["ts"])
        return stamps

    async def show(
        self,
        client: AsyncWebClient,
        owner: OwnerKey,
        channel: str,
        items: AsyncIterable[Outgoing],
        *,
        respond: Respond | None = None,
        skip_questions: bool = False,
        target: Target | None = None,
    ) -> None:
        """Render a turn's items in `channel` (the DM): texts and questions as messages, the report as
        Block Kit, files and the chart as uploads. Texts go to `respond` (ephemeral) when given.
        `target` picks another channel for the summary and its files (see the /journey command)."""
        async for item in items:
            where = await target(item) if target is not None and _delivered(item) else channel
            ts = await self.render(client, owner, where, item, respond=respond, skip_questions=skip_questions)
            await self.app.delivered(item, ts)

    async def render(
        self, client: AsyncWebClient, owner: OwnerKey, channel: str, item: Outgoing, *, respond: Respond | None = None, skip_questions: bool = False
    ) -> str | None:
        """Show one item; the ts of the last message posted for it, if any."""
        if isinstance(item, ReportItem):
            blocks = render.report_blocks(item.lang, item.report, item.title)
            return (await self.post(client, channel, blocks, render.t(item.lang, "report.header", title=render.escape(item.title))))[-1]
        elif isinstance(item, FileItem):
            title_key = {"markdown": "file_title", "map_pdf": "pdf_title"}.get(item.kind)
            title = render.t(item.lang, title_key) if title_key else item.filename
            await self.upload(client, channel, item.filename, item.data, title)
        elif isinstance(item, ImageItem):
            if item.kind in ("chart", "map"):
                title, comment = render.t(item.lang, f"{item.kind}_title"), render.t(item.lang, f"{item.kind}_comment")
            elif item.kind == "qr":
                title, comment = render.t(item.lang, "qr_title"), None
            else:
                title, comment = item.filename, None
            await self.upload(client, channel, item.filename, item.data, title, comment=comment)
        elif item.type == "question":
            if not skip_questions:
                return (await self.post(client, channel, render.question_blocks(item.lang, item), render.escape(item.text)))[-1]
        elif item.type in ("summary", "export"):
            log.warning("an unexpanded %s request reached the Slack adapter", item.type)
        else:
            return await self._say(client, channel, item, respond)
        return None

    async def _say(self, client: AsyncWebClient, channel: str, reply: Reply, respond: Respond | None) -> str | None:
        if not reply.text.strip():
            return None
        blocks = render.text_blocks(reply)
        notification = render.notification_text(reply)
        if respond is not None and len(blocks) <= render.MAX_BLOCKS:
            await respond(text=render.fallback(notification), blocks=blocks, response_type="ephemeral", replace_original=False)
            return None
        return (await self.post(client, channel, blocks, notification))[-1]

    async def upload(self, client: AsyncWebClient, channel: str, filename: str, data: bytes, title: str, *, comment: str | None = None) -> None:
        kwargs: dict[str, Any] = {"initial_comment": comment} if comment else {}
        await client.files_upload_v2(channel=channel, filename=filename, file=data, title=title, **kwargs)

    # -- texts of the adapter and errors ---------------------------------------------------
    async def tell(
        self, client: AsyncWebClient, owner: OwnerKey, where: str, key: str, respond: Respond | None = None, /, **values: Any
    ) -> None:
        """One Slack adapter text (slack.yaml) to the owner: ephemeral via `respond`, else in `where`."""
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
        except (JourneyNotFound, ShareDenied):
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


def _delivered(item: Outgoing) -> bool:
    """A summary's or an export's part: the 'working' notice, the report, its files."""
    if isinstance(item, (ReportItem, FileItem, ImageItem)):
        return True
    return bool(item.data.get("working")) and item.journey_id is not None


def _on_slack_edge(url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and any(host.endswith(domain) for domain in SLACK_EDGE_DOMAINS)


async def _chunks(content: aiohttp.StreamReader, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    async for chunk in content.iter_chunked(size):
        yield chunk
