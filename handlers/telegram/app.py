"""The Telegram adapter: python-telegram-bot v22 in front of the application layer (`app.Journeys`).

No interview logic and no conversation state here: every update becomes one neutral event,
`journeys.turn` runs the engine and saves in one transaction (keyed by the update id, so a
redelivered update is not applied twice), and the outgoing items it hands back are rendered.
Plain Command/Message/CallbackQuery handlers; no ConversationHandler, no persistence. Updates of
one owner are processed strictly in arrival order (handlers.kit.OwnerQueue), different owners
concurrently; review reminders come from handlers.kit.ReminderLoop, CSV files pass
handlers.kit's intake checks, voice notes go to `journeys.hear` with a capped download (handlers.kit.voice).

Environment (see README, "Telegram"):
  TELEGRAM_BOT_TOKEN       the token from BotFather (required)
  TELEGRAM_API_URL         root of a self-hosted Bot API server, e.g. http://127.0.0.1:8081
  TELEGRAM_WEBHOOK_URL     public https URL Telegram posts updates to; enables webhook mode
  TELEGRAM_WEBHOOK_SECRET  required with a webhook: 1-256 characters A-Z a-z 0-9 _ -
  TELEGRAM_WEBHOOK_LISTEN  address the webhook server binds to (default 0.0.0.0)
  TELEGRAM_WEBHOOK_PORT    port the webhook server binds to (default 8443)
  TELEGRAM_WEBHOOK_PATH    local path served (default: the path of TELEGRAM_WEBHOOK_URL)
  JOURNEYBOT_HEALTH_PORT   a listener of its own for /healthz, /readyz and /metrics (long polling has
                           no server; the webhook server serves them too), on JOURNEYBOT_HEALTH_LISTEN
  JOURNEYBOT_SHUTDOWN_TIMEOUT  seconds from SIGTERM to exit (default 20)
"""
from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import os
import errno
import re
import socket
import warnings
import weakref
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, AsyncIterator, Awaitable, Mapping, Sequence
from urllib.parse import urlsplit

import httpx
from telegram import Audio, Bot, BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats, Document, File, Message, Update, Voice
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

import prompts
from app import Journeys, OwnerKey, Reminder, StoreUnavailable
from app.outgoing import FileItem, ImageItem, Outgoing, ReportItem
from app.voice import VoiceNote, VoiceRejected
from bot.events import COMMANDS, Choice, Command, EditedText, Event, Start, Text, parse_input
from bot.events import same_step as same_step_key
from bot.replies import Reply
from handlers import logs
from handlers.kit import FileRejected, OwnerQueue, ReminderLoop, accept_csv, read_limited
from handlers.kit.outbox import OutboxLoop, RetryLater, Undeliverable
from handlers.kit.health import HealthServer, health_port, health_routes
from handlers.kit.signals import DEFAULT_SHUTDOWN_TIMEOUT, Deadline, Periodic, stop_on_signals
from handlers.kit.intake import DOWNLOAD_TYPES, MAX_CSV_BYTES, FileTooLarge, check_response, declared_size, decode_text
from handlers.kit.voice import AUDIO_TYPES, capped
from handlers.telegram import render
from handlers.telegram.webhook import WebhookServer, serving
from handlers.web import survey_routes

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MENU_COMMANDS = (
    "start",
    "new",
    "back",
    "edit",
    "skip",
    "status",
    "summary",
    "export",
    "journeys",
    "language",
    "forget",
    "help",
    "cancel",
    "review",
    "todo",
    "survey",
    "results",
)
GROUP_COMMANDS = ("start", "help", "summary", "language")  # a group sees these; the interview itself is private
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
TYPING_EVERY = 4.0  # Telegram shows "typing" for about 5 seconds


class SettingsError(ValueError):
    """The bot cannot start: a setting is wrong, Telegram refuses the token or cannot be reached, or the
    webhook port is taken. `key` names the one-line text in telegram.yaml `settings`; the values it
    shows never include the token."""

    def __init__(self, key: str, **values: Any) -> None:
        self.key = key
        self.values = values
        super().__init__(self.text(prompts.DEFAULT_LANGUAGE))

    def text(self, lang: str) -> str:
        return prompts.say(lang, "telegram", f"settings.{self.key}", **self.values)


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    api_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    listen: str = "0.0.0.0"
    port: int = 8443
    webhook_path: str | None = None
    max_retries: int = 3
    concurrent_updates: int = 16
    poll_timeout: float = 30.0
    drop_pending_updates: bool = False
    reminder_interval: float = 60.0  # seconds between looks for due review reminders; 0 switches them off
    outbox_interval: float = 1.0  # seconds between looks for replies a failed or killed process left unsent
    overall_max_rate: float = 30.0  # messages per second over all chats: Telegram's flood limit for a bot
    health_listen: str = "127.0.0.1"
    health_port: int | None = None  # a listener of its own for /healthz, /readyz, /metrics; None: none
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT  # seconds from SIGTERM to exit

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "TelegramSettings":
        env = os.environ if env is None else env
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
        if not token:
            raise SettingsError("missing_token")
        try:
            port = int(env.get("TELEGRAM_WEBHOOK_PORT", "8443") or 8443)
        except ValueError:
            raise SettingsError("bad_port", value=env.get("TELEGRAM_WEBHOOK_PORT", "")) from None
        settings = cls(
            token=token,
            api_url=(env.get("TELEGRAM_API_URL") or "").strip().rstrip("/") or None,
            webhook_url=(env.get("TELEGRAM_WEBHOOK_URL") or "").strip() or None,
            webhook_secret=(env.get("TELEGRAM_WEBHOOK_SECRET") or "").strip() or None,
            listen=(env.get("TELEGRAM_WEBHOOK_LISTEN") or "0.0.0.0").strip(),
            port=port,
            webhook_path=(env.get("TELEGRAM_WEBHOOK_PATH") or "").strip() or None,
            reminder_interval=_number(env, "JOURNEYBOT_REMINDER_INTERVAL", 60),
            outbox_interval=_number(env, "JOURNEYBOT_OUTBOX_INTERVAL", 1),
            overall_max_rate=_number(env, "TELEGRAM_OVERALL_MAX_RATE", 30),
            shutdown_timeout=_number(env, "JOURNEYBOT_SHUTDOWN_TIMEOUT", DEFAULT_SHUTDOWN_TIMEOUT),
            **_health(env),
        )
        settings.check()
        return settings

    def check(self) -> None:
        if self.webhook_url:
            if not self.webhook_secret:
                raise SettingsError("missing_secret")
            if not _SECRET.match(self.webhook_secret):
                raise SettingsError("bad_secret")

    @property
    def api_root(self) -> str:
        """Where the Bot API is, for messages: the root URL, without the token."""
        return self.api_url or "https://api.telegram.org"

    @property
    def url_path(self) -> str:
        if self.webhook_path is not None:
            return self.webhook_path.strip("/")
        return urlsplit(self.webhook_url or "").path.strip("/")


# ---------------------------------------------------------------------------- ordering
def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = (env.get(name) or "").strip()
    try:
        return float(raw) if raw else float(default)
    except ValueError:
        raise SettingsError("bad_number", name=name, value=raw) from None


def _health(env: Mapping[str, str]) -> dict[str, Any]:
    try:
        where = health_port(env)
    except ValueError:
        raise SettingsError("bad_number", name="JOURNEYBOT_HEALTH_PORT", value=env.get("JOURNEYBOT_HEALTH_PORT", "")) from None
    return {} if where is None else {"health_listen": where[0], "health_port": where[1]}


def _owner_of(update: object) -> Any:
    if isinstance(update, Update):
        if update.effective_user is not None:
            return ("user", update.effective_user.id)
        if update.effective_chat is not None:
            return ("chat", update.effective_chat.id)
    return None


class OwnerOrderedProcessor(BaseUpdateProcessor):
    """Updates of one owner one after another, in arrival order; different owners concurrently.

    PTB's `process_update` takes a slot of `max_concurrent_updates` and calls `do_process_update`
    without awaiting anything else first, so the owner's turn is entered in arrival order. It knows
    the updates in flight, so that a shutdown out of time can stop them (`abandon`).
    """

    def __init__(self, max_concurrent_updates: int, queue: OwnerQueue | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self.queue = queue or OwnerQueue()
        self.running: set[asyncio.Task[Any]] = set()
        self.abandoned = False

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self.abandoned:  # out of time at shutdown: not started at all
            close = getattr(coroutine, "close", None)
            if close is not None:
                close()
            log.warning("an update was not handled: the shutdown ran out of time")
            return
        task = asyncio.current_task()
        if task is not None:
            self.running.add(task)
        try:
            key = _owner_of(update)
            if key is None:
                await coroutine
                return
            async with self.queue.turn(key):
                await coroutine
        finally:
            if task is not None:
                self.running.discard(task)

    def abandon(self) -> int:
        """Cancel the updates in flight and start no other; how many were cancelled. A turn already
        committed keeps its undelivered replies in the outbox, for the next process."""
        self.abandoned = True
        running = [task for task in self.running if not task.done()]
        for task in running:
            task.cancel()
        return len(running)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


# ---------------------------------------------------------------------------- outgoing items
class _Items:
    """The items of one turn, pulled one at a time. Once the application layer says it is working
    on a summary, the chat shows "typing" while the next items are awaited."""

    def __init__(self, bot: Any, chat_id: int, items: AsyncIterator[Outgoing]) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.items = items.__aiter__()
        self.typing = False

    async def next(self) -> Outgoing | None:
        try:
            if self.typing:
                async with _typing(self.bot, self.chat_id):
                    item = await self.items.__anext__()
            else:
                item = await self.items.__anext__()
        except StopAsyncIteration:
            return None
        if isinstance(item, Reply) and item.data.get("working"):
            self.typing = True
        elif not isinstance(item, Reply):
            self.typing = False  # the report is written; files and the chart follow quickly
        return item

    async def replies_first(self) -> tuple[list[Reply], Outgoing | None]:
        """The engine's own replies up to the first summary or file, and that item (or None)."""
        head: list[Reply] = []
        while True:
            item = await self.next()
            if item is None or not isinstance(item, Reply) or item.data.get("working"):
                return head, item
            head.append(item)


# ---------------------------------------------------------------------------- the bot
@dataclass
class _Delivery:
    chat_id: int
    owner: OwnerKey
    lang: str


@dataclass
class TelegramBot:
    """Translates updates to events, runs the turn in the application layer, renders what it hands back."""

    journeys: Journeys
    settings: TelegramSettings
    queue: OwnerQueue = field(default_factory=OwnerQueue)
    _loops: list[Periodic] = field(default_factory=list, init=False)  # reminders and the outbox
    _health: HealthServer | None = field(default=None, init=False)
    _deadline: Deadline = field(default_factory=lambda: Deadline(None), init=False)

    # -- owners and language ---------------------------------------------------
    def owner(self, user_id: int) -> OwnerKey:
        return OwnerKey(CHANNEL, "", str(user_id))

    async def language(self, owner: OwnerKey, update: Update, items: list[Any] | None = None) -> str:
        """The owner's language for adapter texts: the turn's, else the stored one, else Telegram's language_code."""
        for item in items or ():
            lang = getattr(item, "lang", None)
            if lang in prompts.LANGUAGES:
                return str(lang)
        try:
            stored = await asyncio.to_thread(self.journeys.language, owner)
            if stored in prompts.LANGUAGES:
                return str(stored)
        except Exception:  # the language only picks adapter texts; never fail an update on it
            log.debug("language lookup failed", exc_info=True)
        user = update.effective_user
        return prompts.normalise_language(user.language_code if user else None)

    # -- building ------------------------------------------------------------------
    def build(self) -> Application:
        builder = (
            ApplicationBuilder()
            .token(self.settings.token)
            .defaults(render.DEFAULTS)  # no link previews
            .rate_limiter(AIORateLimiter(overall_max_rate=self.settings.overall_max_rate, max_retries=self.settings.max_retries))
            .concurrent_updates(OwnerOrderedProcessor(self.settings.concurrent_updates, self.queue))
            .post_init(self.post_init)
            .post_shutdown(self.post_shutdown)
        )
        if self.settings.api_url:
            builder = builder.base_url(f"{self.settings.api_url}/bot{{token}}").base_file_url(
                f"{self.settings.api_url}/file/bot{{token}}"
            )
        app = builder.build()
        self.add_handlers(app)
        _journeys_of[app] = self.journeys  # the webhook server also serves the survey page
        _bots[app] = self
        return app

    def add_handlers(self, app: Application) -> None:
        aliases = sorted(
            {
                str(name)
                for lang in prompts.LANGUAGES
                for name in (prompts.load(lang, "messages").get("aliases") or {})
                if re.fullmatch(r"[a-z0-9_]{1,32}", str(name))
            }
        )
        known = sorted({*COMMANDS, *MENU_COMMANDS, *aliases} - {"start"})
        # First: an edited message is never a new answer or command (the handlers below would take it as one).
        app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, self.on_edited))
        app.add_handler(CommandHandler("start", self.on_start))
        app.add_handler(CommandHandler(known, self.on_command))
        # Unknown commands: in private chats the engine says so; in groups they may be for another bot.
        app.add_handler(MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, self.on_command))
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, self.on_text))
        # A voice note (or an audio file) in a private chat: transcribed when voice notes are on.
        app.add_handler(MessageHandler(filters.ChatType.PRIVATE & (filters.VOICE | filters.AUDIO), self.on_voice))
        # A photo, sticker or video in a private chat: its caption (often empty) is the answer,
        # so the engine asks again for a typed answer instead of the owner hearing nothing.
        app.add_handler(
            MessageHandler(
                filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL,
                self.on_other,
            )
        )
        app.add_handler(CallbackQueryHandler(self.on_callback))
        app.add_error_handler(self.on_error)

    async def post_init(self, app: Application) -> None:
        if self.settings.health_port is not None:  # first: a taken port stops the start
            health = HealthServer(self.journeys, self.settings.health_listen, self.settings.health_port)
            await health.start()
            self._health = health
        await self.register_commands(app)
        self._loops = [self.reminder_loop(app.bot), self.outbox_loop(app.bot)]
        for loop in self._loops:
            loop.start()

    def stopping(self, deadline: Deadline) -> None:
        """Shutdown began: the loops start no new pass, /readyz says so."""
        self._deadline = deadline
        for loop in self._loops:
            loop.stop()
        if self._health is not None:
            self._health.stopping()

    async def post_shutdown(self, app: Application) -> None:
        """The loops finish their pass (cancelled when the time is up), then the receipts of what was
        shown are written."""
        loops, self._loops = self._loops, []
        await asyncio.gather(*(loop.close(self._deadline.left(RECEIPTS_RESERVE)) for loop in loops))
        try:
            await asyncio.to_thread(self.journeys.flush_delivered)
        except Exception:  # they are sent again by the next process: shown twice, never lost
            log.warning("could not record the last replies as delivered", exc_info=True)
        health, self._health = self._health, None
        if health is not None:
            await health.stop()

    def outbox_loop(self, bot: Any) -> OutboxLoop:
        """Replies stored with their turn but never shown (a failed send, a killed process)."""

        async def show(owner: OwnerKey, address: dict[str, Any], items: list[Outgoing]) -> int | None:
            lang = next((str(i.lang) for i in items if getattr(i, "lang", None) in prompts.LANGUAGES), prompts.DEFAULT_LANGUAGE)
            try:
                return await self.show(bot, _Delivery(int(address["chat_id"]), owner, lang), items)
            except RetryAfter as exc:
                wait = exc.retry_after
                raise RetryLater(wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)) from None
            except (Forbidden, BadRequest) as exc:  # blocked, chat gone, or a message Telegram refuses
                raise Undeliverable(type(exc).__name__) from None

        return OutboxLoop(self.journeys, CHANNEL, show, interval=self.settings.outbox_interval)

    def reminder_loop(self, bot: Any) -> ReminderLoop:
        """Review reminders, scheduled in the database: each is claimed by one process only, and
        one that could not be sent is released for the next pass."""

        async def send(reminder: Reminder) -> None:
            await bot.send_message(chat_id=int(reminder.owner.user_id), text=html.escape(reminder.text), parse_mode=ParseMode.HTML)

        return ReminderLoop(self.journeys, CHANNEL, send, interval=self.settings.reminder_interval)

    async def register_commands(self, app: Application) -> None:
        """The command menu per scope and language: every command in private chats, only those that
        make sense in a group there (no /forget, no interview steps); the bot's description and short
        description likewise. English is also the default for other languages."""
        for lang in (*prompts.LANGUAGES, None):
            texts = prompts.load(lang or prompts.DEFAULT_LANGUAGE, "telegram")
            for scope, names in ((BotCommandScopeAllPrivateChats(), MENU_COMMANDS), (BotCommandScopeAllGroupChats(), GROUP_COMMANDS)):
                commands = [BotCommand(name, texts["commands"][name]) for name in names]
                try:
                    await app.bot.set_my_commands(commands, scope=scope, language_code=lang)
                except TelegramError:
                    log.warning("setMyCommands failed for %s (%s)", lang or "default", scope.type, exc_info=True)
            try:
                await app.bot.set_my_description(texts["description"], language_code=lang)
                await app.bot.set_my_short_description(texts["short_description"], language_code=lang)
            except TelegramError:
                log.warning("setMyDescription failed for %s", lang or "default", exc_info=True)

    # -- updates ---------------------------------------------------------------------
    def _group_ok(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
        """In groups, only commands and replies to the bot's own messages are for us."""
        chat = update.effective_chat
        if chat is None or chat.type == ChatType.PRIVATE:
            return True
        message = update.effective_message
        if message is None:
            return False
        if message.text and message.text.startswith("/"):
            return True
        replied = message.reply_to_message
        return bool(replied and replied.from_user and replied.from_user.id == context.bot.id)

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is None or update.effective_chat is None:
            return
        owner = self.owner(user.id)
        if update.effective_chat.type != ChatType.PRIVATE:
            lang = await self.language(owner, update)
            await context.bot.send_message(update.effective_chat.id, render.escape(render.say(lang, "group_notice")))
        # A deep link (t.me/<bot>?start=nl, ?start=new) says the language to begin in, or asks for a
        # new journey: a link on a flyer for Dutch owners, or one to map a second persona.
        payload = (context.args[0] if context.args else "").strip().lower()
        if payload == "new":
            await self.dispatch(update, context, Command("new"))
            return
        hint = payload if payload in prompts.LANGUAGES else user.language_code
        await self.dispatch(update, context, Start(lang_hint=hint))

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not message.text:
            return
        event = parse_input(message.text)
        if isinstance(event, Command) and event.name == "start":
            await self.on_start(update, context)
            return
        await self.dispatch(update, context, event)

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.text is None or not self._group_ok(update, context):
            return
        await self.dispatch(update, context, Text(message.text, message_id=str(message.message_id)))

    async def on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An edited message: it changes the answer it carried if that is still the last one."""
        message = update.edited_message
        if message is None or not self._group_ok(update, context):
            return
        text = message.text if message.text is not None else message.caption
        if text is None:
            return
        await self.dispatch(update, context, EditedText(text, str(message.message_id)))

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        if message.document is not None:
            await self.on_document(update, context, message.document)
            return
        await self.dispatch(update, context, Text(message.caption or "", message_id=str(message.message_id)))

    async def on_document(self, update: Update, context: ContextTypes.DEFAULT_TYPE, document: Document) -> None:
        """Customers' survey answers as a CSV file: its text is what /results takes.

        The declared size is checked before anything is downloaded, and no more than the limit is read."""
        try:
            accept_csv(document.file_name, document.mime_type, document.file_size)
            file = await document.get_file()
            accept_csv(document.file_name, document.mime_type, file.file_size)
            text = decode_text(await _download(context.bot, file, MAX_CSV_BYTES))
        except FileRejected as exc:
            user = update.effective_user
            if user is None or update.effective_chat is None:
                return
            lang = await self.language(self.owner(user.id), update)
            limit = f"{MAX_CSV_BYTES / 1_000_000:g} MB"
            await context.bot.send_message(
                update.effective_chat.id, render.escape(render.say(lang, f"file.{exc.reason}", limit=limit)), parse_mode=ParseMode.HTML
            )
            return
        await self.dispatch(update, context, Command("results", text))

    async def on_voice(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A voice note: the application layer checks its declared length and size, has it fetched
        (never more than its size limit), transcribes it and asks the owner to confirm the words."""
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        media = (message.voice or message.audio) if message is not None else None
        if media is None or user is None or chat is None:
            return
        owner = self.owner(user.id)
        lang = await self.language(owner, update)

        async def fetch(limit: int) -> bytes:
            file = await media.get_file()
            if (declared_size(file.file_size) or 0) > limit:  # what the Bot API says now: nothing is downloaded
                raise VoiceRejected("too_big")
            return await _download(context.bot, file, limit, types=AUDIO_TYPES)

        async def fetch_capped(limit: int) -> bytes:
            return await capped(fetch(limit), errors=(TelegramError, httpx.HTTPError))

        heard = self.journeys.hear(
            owner,
            _note(media),
            fetch_capped,
            lang=lang,
            dedup_key=f"tg:{update.update_id}",
            lang_hint=user.language_code,
            address={"chat_id": chat.id},
        )
        await self.deliver(update, context, owner, heard, typing=True)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        answered = False
        try:
            tap = render.parse_callback(query.data)
            message = query.message
            if tap is None or update.effective_user is None or message is None:
                await query.answer()
                answered = True
                return
            owner = self.owner(update.effective_user.id)
            chat_id = message.chat.id
            items = _Items(
                context.bot,
                chat_id,
                self.journeys.turn(
                    owner,
                    Choice(tap.value, step=tap.step),
                    dedup_key=f"tg:{update.update_id}",
                    lang_hint=update.effective_user.language_code,
                    address={"chat_id": chat_id},
                ),
            )
            replies, pending = await items.replies_first()
            lang = await self.language(owner, update, [*replies, *([pending] if pending is not None else [])])
            stale = _is_stale(replies)
            same_step = [r for r in replies if r.type == "question" and r.step and same_step_key(tap.step, r.step)]
            errors = [r for r in replies if r.type == "error"]
            toast = render.say(lang, "stale_toast") if stale else (render.say(lang, "toggled") if same_step and not errors else None)
            answered = True
            await _quietly(query.answer(toast))  # a query too old to answer must not stop the reply
            rest = replies
            # An inaccessible message (older than 48 hours, or deleted) cannot be edited: PTB may hand it
            # over as a Message dated 0 or as an InaccessibleMessage. Everything then goes out as new messages.
            if isinstance(message, Message) and message.is_accessible:
                rest = await self._edit_tapped(context, message, query.data or "", tap.value, lang, replies, stale, same_step, errors)
            to = _Delivery(chat_id, owner, lang)
            await self.render(context, to, rest)
            while pending is not None:
                await self.render(context, to, [pending])
                pending = await items.next()
        finally:
            if not answered:
                with contextlib.suppress(TelegramError):
                    await query.answer()

    async def _edit_tapped(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        message: Message,
        data: str,
        value: str,
        lang: str,
        replies: list[Reply],
        stale: bool,
        same_step: list[Reply],
        errors: list[Reply],
    ) -> list[Reply]:
        """Update the tapped question in place; the replies still to send as new messages."""
        chat_id = message.chat.id
        if stale:
            # The old question keeps its text but loses its buttons; the engine re-asks the current one.
            await _quietly(context.bot.edit_message_reply_markup(chat_id, message.message_id, reply_markup=None))
            return replies
        if same_step and not errors:
            # A multi-choice toggle: update the tapped question in place.
            reply = same_step[-1]
            text = render.reply_messages(lang, reply)[0]
            await _quietly(
                context.bot.edit_message_text(text, chat_id, message.message_id, parse_mode=ParseMode.HTML, reply_markup=render.keyboard(reply))
            )
            await self.journeys.delivered(reply, message.message_id)
            return [r for r in replies if r is not reply]
        if not errors and replies:
            label = render.button_label(message.reply_markup, data) or value
            original = message.text_html if message.text else ""
            text = original + render.chosen_suffix(lang, label)
            if render.units(text) > render.MAX_MESSAGE:
                text = original
            await _quietly(context.bot.edit_message_text(text, chat_id, message.message_id, parse_mode=ParseMode.HTML, reply_markup=None))
        return replies

    async def dispatch(self, update: Update, context: ContextTypes.DEFAULT_TYPE, event: Event) -> None:
        user = update.effective_user
        chat = update.effective_chat
        if user is None or chat is None:
            return
        owner = self.owner(user.id)
        stream = self.journeys.turn(owner, event, dedup_key=f"tg:{update.update_id}", lang_hint=user.language_code, address={"chat_id": chat.id})
        await self.deliver(update, context, owner, stream)

    async def deliver(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, owner: OwnerKey, stream: AsyncIterator[Outgoing], *, typing: bool = False
    ) -> None:
        """Render a turn's items as they come; with `typing`, the chat shows "typing" until the first."""
        chat = update.effective_chat
        if chat is None:
            return
        items = _Items(context.bot, chat.id, stream)
        items.typing = typing
        to: _Delivery | None = None
        while (item := await items.next()) is not None:
            if typing:  # only the wait for the first item (a transcription) shows it
                typing = False
                items.typing = isinstance(item, Reply) and bool(item.data.get("working"))
            if to is None:
                to = _Delivery(chat.id, owner, await self.language(owner, update, [item]))
            await self.render(context, to, [item])

    # -- rendering ---------------------------------------------------------------------
    async def render(self, context: ContextTypes.DEFAULT_TYPE, to: _Delivery, items: Sequence[Outgoing]) -> None:
        """Show each item, then report it delivered (its outbox row is done)."""
        for item in items:
            ref = await self.show(context.bot, to, [item])
            await self.journeys.delivered(item, ref)

    async def show(self, bot: Any, to: _Delivery, items: list[Outgoing]) -> int | None:
        """Send the items; the message id of the last message sent, if any."""
        ref: int | None = None
        for item in items:
            if isinstance(item, ReportItem):
                for text in render.report_messages(item.report, getattr(item.report, "language", None) or item.lang or to.lang):
                    ref = (await bot.send_message(to.chat_id, text, parse_mode=ParseMode.HTML)).message_id
            elif isinstance(item, FileItem):
                caption_key = {"markdown": "document_caption", "map_pdf": "pdf_caption"}.get(item.kind)
                caption = render.say(_lang(item, to), caption_key) if caption_key else None
                ref = (await bot.send_document(to.chat_id, document=item.data, filename=item.filename, caption=caption)).message_id
            elif isinstance(item, ImageItem):
                if item.data:
                    caption_key = {"chart": "chart_caption", "map": "map_caption", "qr": "qr_caption"}.get(item.kind)
                    caption = render.say(_lang(item, to), caption_key) if caption_key else None
                    ref = (await bot.send_photo(to.chat_id, photo=item.data, filename=item.filename, caption=caption)).message_id
            elif isinstance(item, Reply) and item.text.strip():
                parts = render.reply_messages(to.lang, item)
                markup = render.keyboard(item)
                for i, text in enumerate(parts):
                    last = i == len(parts) - 1
                    sent = await bot.send_message(to.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup if last else None)
                    ref = sent.message_id
        return ref

    # -- errors ---------------------------------------------------------------------------
    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("update failed: %s", context.error, exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        if isinstance(context.error, TelegramError) and not isinstance(context.error, BadRequest):
            return  # Telegram itself is unreachable: telling the owner would fail too
        key = "store_down" if isinstance(context.error, StoreUnavailable) else "error"
        owner = self.owner(update.effective_user.id) if update.effective_user else None
        lang = prompts.normalise_language(update.effective_user.language_code if update.effective_user else None)
        if owner is not None and key == "error":
            with contextlib.suppress(Exception):
                lang = await self.language(owner, update)
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(update.effective_chat.id, render.escape(render.say(lang, key)))


def _lang(item: FileItem | ImageItem, to: _Delivery) -> str:
    return item.lang if item.lang in prompts.LANGUAGES else to.lang


def _is_stale(replies: list[Reply]) -> bool:
    stale_texts = {prompts.say(lang, "messages", "stale") for lang in prompts.LANGUAGES}
    return any(r.type == "info" and (r.data.get("stale") or r.text in stale_texts) for r in replies)


def _note(media: Voice | Audio) -> VoiceNote:
    """What Telegram declares about a voice note or an audio file."""
    with warnings.catch_warnings():  # `duration` becomes a timedelta in a later python-telegram-bot
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        duration: Any = media.duration
    seconds = duration.total_seconds() if isinstance(duration, timedelta) else float(duration) if duration is not None else None
    name = getattr(media, "file_name", None) or ""
    return VoiceNote(name=str(name), mime=media.mime_type, seconds=seconds, size=declared_size(media.file_size))


async def _download(bot: Any, file: File, limit: int, *, types: frozenset[str] = DOWNLOAD_TYPES) -> bytes:
    """The file's bytes, streamed from the Bot API and never more than `limit` of them held.

    The declared length and type are checked before the body is read (an error page is no file);
    a missing length is unknown, and the reading stops at the limit whatever was declared."""
    path = file.file_path or ""
    if not path.startswith(("http://", "https://")):  # a local Bot API server in --local mode hands out paths
        if os.path.isfile(path):
            return await asyncio.to_thread(_read_local, path, limit)
        return await read_limited(_one(bytes(await file.download_as_bytearray())), limit)
    async with httpx.AsyncClient(timeout=30.0) as client:
        async with client.stream("GET", path) as response:
            length = declared_size(response.headers.get("content-length"))
            check_response(response.status_code, response.headers.get("content-type"), length, limit, html="failed", types=types)
            return await read_limited(response.aiter_bytes(), limit)


def _read_local(path: str, limit: int) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge()
    return data


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _quietly(call: Awaitable[Any]) -> None:
    """Edits and callback answers are cosmetic: a message that is gone or unchanged, or a query
    too old to answer, must not fail the update."""
    try:
        await call
    except BadRequest as exc:
        log.info("skipped: %s", exc)


@contextlib.asynccontextmanager
async def _typing(bot: Any, chat_id: int, action: str = ChatAction.TYPING) -> AsyncIterator[None]:
    async def show() -> None:
        with contextlib.suppress(TelegramError):
            await bot.send_chat_action(chat_id, action)

    async def loop() -> None:
        while True:
            await asyncio.sleep(TYPING_EVERY)
            await show()

    await show()

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# ---------------------------------------------------------------------------- entry points
def build_application(journeys: Journeys, settings: TelegramSettings, **kwargs: Any) -> Application:
    return TelegramBot(journeys, settings, **kwargs).build()


ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
RECEIPTS_RESERVE = 1.0  # seconds of the shutdown time kept for writing the receipts
_journeys_of: "weakref.WeakKeyDictionary[Application, Journeys]" = weakref.WeakKeyDictionary()
_bots: "weakref.WeakKeyDictionary[Application, TelegramBot]" = weakref.WeakKeyDictionary()


def webhook_server(app: Application, settings: TelegramSettings) -> WebhookServer:
    """journeybot's own webhook server (handlers/telegram/webhook.py), not PTB's: it checks the
    secret before reading a body and reads at most 1 MB."""
    assert settings.webhook_secret is not None, "settings.check() requires a secret with a webhook"
    journeys = _journeys_of.get(app)
    routes = [*survey_routes(journeys), *health_routes(journeys)] if journeys is not None else []
    return WebhookServer(app, listen=settings.listen, port=settings.port, path=settings.url_path, secret=settings.webhook_secret, routes=routes)


def polling_kwargs(settings: TelegramSettings) -> dict[str, Any]:
    """Arguments shared by `Application.run_polling` and `Updater.start_polling`."""
    return {
        "timeout": int(settings.poll_timeout),
        "drop_pending_updates": settings.drop_pending_updates,
        "allowed_updates": ALLOWED_UPDATES,
    }


async def start(app: Application, settings: TelegramSettings) -> None:
    """Start an application inside a running event loop (tests, embedding); `stop` ends it."""
    settings.check()
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    if settings.webhook_url:
        await webhook_server(app, settings).start(
            webhook_url=settings.webhook_url, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=settings.drop_pending_updates
        )
    else:
        assert app.updater is not None
        await app.updater.start_polling(**polling_kwargs(settings))


async def stop(app: Application, timeout: float | None = None) -> None:
    """Stop taking updates (the webhook server closes, long polling ends and confirms what it
    fetched), handle those already received, let the loops finish their pass and write the receipts
    of what was shown. With `timeout` (JOURNEYBOT_SHUTDOWN_TIMEOUT) the updates still running when it
    is nearly up are cancelled: a turn already committed keeps its undelivered replies in the outbox,
    which the next process sends; a webhook update is answered 503, so Telegram delivers it again."""
    deadline = Deadline(timeout)
    bot = _bots.get(app)
    if bot is not None:
        bot.stopping(deadline)
    server = serving(app)
    if server is not None:  # no new updates; those taken are finished (Telegram delivers again what is cancelled)
        await server.stop(deadline.left(RECEIPTS_RESERVE))
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await _stop_handling(app, deadline)
    await app.shutdown()
    if app.post_shutdown is not None:  # the loops and the receipts, as `run_polling` would
        await app.post_shutdown(app)


async def _stop_handling(app: Application, deadline: Deadline) -> None:
    """`app.stop()`: the updates received are handled; those still running when the time is up
    (less the receipts' reserve) are cancelled."""
    stopping = asyncio.ensure_future(app.stop())
    done, _ = await asyncio.wait({stopping}, timeout=deadline.left(RECEIPTS_RESERVE))
    if not done:
        processor = app.update_processor
        cancelled = processor.abandon() if isinstance(processor, OwnerOrderedProcessor) else 0
        log.warning("shutdown: %d updates still running were stopped; their undelivered replies stay in the outbox", cancelled)
    await stopping


def _check_port(settings: TelegramSettings) -> None:
    """The webhook port must be free before the webhook is registered with Telegram."""
    try:
        infos = socket.getaddrinfo(settings.listen or None, settings.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise SettingsError("cannot_listen", listen=settings.listen, port=settings.port, error=exc.strerror or exc) from None
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as sock:
            if os.name != "nt":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the webhook server itself binds
            try:
                sock.bind(address)
            except OSError as exc:
                raise _listen_error(settings, exc) from None


def _listen_error(settings: TelegramSettings, exc: OSError) -> SettingsError:
    if exc.errno == errno.EADDRINUSE:
        return SettingsError("port_in_use", port=settings.port)
    return SettingsError("cannot_listen", listen=settings.listen, port=settings.port, error=exc.strerror or exc)


async def _check_token(settings: TelegramSettings) -> None:
    """One getMe with the token, before anything starts: a refused token or an unreachable Bot API
    becomes a SettingsError. python-telegram-bot's own log lines about the failure (a traceback,
    with the token in the exception text) are left out unless the log level is DEBUG."""
    kwargs: dict[str, Any] = {}
    if settings.api_url:
        kwargs = {"base_url": f"{settings.api_url}/bot{{token}}", "base_file_url": f"{settings.api_url}/file/bot{{token}}"}
    quiet = not logging.getLogger().isEnabledFor(logging.DEBUG)
    library = logging.getLogger("telegram")
    level = library.level
    if quiet:
        library.setLevel(logging.CRITICAL + 1)
    try:
        async with Bot(settings.token, **kwargs):
            pass  # entering initialises the bot: getMe
    except InvalidToken:
        raise SettingsError("token_rejected") from None
    except NetworkError as exc:  # includes TimedOut
        raise SettingsError("unreachable", url=settings.api_root, error=exc.message) from None
    finally:
        if quiet:
            library.setLevel(level)


def preflight(settings: TelegramSettings) -> None:
    """What can be checked before the bot starts: the settings, the webhook port, the token."""
    settings.check()
    if settings.webhook_url:
        _check_port(settings)
    loop = asyncio.new_event_loop()  # its own loop: python-telegram-bot's run_* make theirs
    try:
        loop.run_until_complete(_check_token(settings))
    finally:
        loop.close()


async def _serve(app: Application, settings: TelegramSettings) -> None:
    """Long polling or the webhook until SIGINT or SIGTERM, then a graceful `stop` within
    `settings.shutdown_timeout`."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = stop_on_signals(loop, stopping.set)
    try:
        await start(app, settings)
        await stopping.wait()
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
        await stop(app, settings.shutdown_timeout)


def run(journeys: Journeys, settings: TelegramSettings) -> None:
    """Run until interrupted: long polling, or a webhook server when `settings.webhook_url` is set."""
    settings.check()
    app = build_application(journeys, settings)
    try:
        if settings.webhook_url:
            log.info("Telegram webhook on %s:%s/%s", settings.listen, settings.port, settings.url_path)
        else:
            log.info("Telegram long polling")
        asyncio.run(_serve(app, settings))
    except InvalidToken:  # revoked between the check and the start
        raise SettingsError("token_rejected") from None
    except OSError as exc:  # the webhook port, taken between the check and the start
        if settings.webhook_url and exc.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise _listen_error(settings, exc) from None
        raise


def main(journeys: Journeys | None = None, env: Mapping[str, str] | None = None) -> int:
    """`journeybot telegram`: settings from the environment, the checks of `preflight`, then `run`.
    Returns an exit code: 2, after one line in the operator's language (JOURNEYBOT_LANG, LANG) on
    stderr, when the bot cannot start; never a traceback, never the token.

    Without `journeys`, the application layer is opened from the environment (and closed at the end)."""
    source = os.environ if env is None else env
    lang = prompts.normalise_language(source.get("JOURNEYBOT_LANG") or source.get("LANG"))
    own = journeys is None
    try:
        settings = TelegramSettings.from_env(env)
        preflight(settings)
        journeys = Journeys.from_env(env) if journeys is None else journeys
        run(journeys, settings)
    except SettingsError as exc:
        logs.fail(exc.text(lang))
        return 2
    finally:
        if own and journeys is not None:
            journeys.close()
    return 0
