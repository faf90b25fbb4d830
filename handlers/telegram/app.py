"""The Telegram adapter: python-telegram-bot v22 in front of the JourneyService.

No interview logic and no conversation state here: every update becomes one
neutral event, `service.ahandle` runs the engine and saves in one transaction (keyed
by the update id, so a redelivered update is not applied twice), and the replies
are rendered. Plain Command/Message/CallbackQuery handlers; no ConversationHandler,
no persistence. Updates of one owner are processed strictly in arrival order,
different owners concurrently.

Environment (see README, "Telegram"):
  TELEGRAM_BOT_TOKEN       the token from BotFather (required)
  TELEGRAM_API_URL         root of a self-hosted Bot API server, e.g. http://127.0.0.1:8081
  TELEGRAM_WEBHOOK_URL     public https URL Telegram posts updates to; enables webhook mode
  TELEGRAM_WEBHOOK_SECRET  required with a webhook: 1-256 characters A-Z a-z 0-9 _ -
  TELEGRAM_WEBHOOK_LISTEN  address the webhook server binds to (default 0.0.0.0)
  TELEGRAM_WEBHOOK_PORT    port the webhook server binds to (default 8443)
  TELEGRAM_WEBHOOK_PATH    local path served (default: the path of TELEGRAM_WEBHOOK_URL)
"""
from __future__ import annotations

import asyncio
import html
import contextlib
import logging
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable, Mapping
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
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
from bot.events import COMMANDS, Choice, Command, Event, Start, Text, parse_input
from bot.events import same_step as same_step_key
from bot.replies import Reply
from handlers.telegram import render

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MENU_COMMANDS = (
    "start",
    "new",
    "back",
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
MAX_CSV_BYTES = 1_000_000
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
TYPING_EVERY = 4.0  # Telegram shows "typing" for about 5 seconds


class SettingsError(ValueError):
    """The environment does not describe a runnable bot. `key` names the text in telegram.yaml `settings`."""

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
    overall_max_rate: float = 30.0  # messages per second over all chats: Telegram's flood limit for a bot

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
            reminder_interval=float(env.get("JOURNEYBOT_REMINDER_INTERVAL", "60") or 60),
            overall_max_rate=float(env.get("TELEGRAM_OVERALL_MAX_RATE", "30") or 30),
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
    def url_path(self) -> str:
        if self.webhook_path is not None:
            return self.webhook_path.strip("/")
        return urlsplit(self.webhook_url or "").path.strip("/")


# ---------------------------------------------------------------------------- ordering
def _owner_of(update: object) -> Any:
    if isinstance(update, Update):
        if update.effective_user is not None:
            return ("user", update.effective_user.id)
        if update.effective_chat is not None:
            return ("chat", update.effective_chat.id)
    return None


class OwnerOrderedProcessor(BaseUpdateProcessor):
    """Updates of one owner one after another, in arrival order; different owners concurrently.

    The owner's lock is taken before anything else awaits, and asyncio locks are FIFO,
    so two quick updates of one owner are never reordered.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[Any, asyncio.Lock] = {}
        self._users: dict[Any, int] = {}

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _owner_of(update)
        if key is None:
            await super().process_update(update, coroutine)
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await super().process_update(update, coroutine)
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                self._locks.pop(key, None)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await coroutine

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


# ---------------------------------------------------------------------------- the bot
@dataclass
class _Delivery:
    chat_id: int
    owner: Any
    lang: str


@dataclass
class TelegramBot:
    """Translates updates to events, calls the service, renders replies."""

    service: Any
    settings: TelegramSettings
    owner_factory: Callable[[str], Any] | None = None
    _owner_cls: Any = field(default=None, init=False)

    # -- owners and language ---------------------------------------------------
    def owner(self, user_id: int) -> Any:
        if self.owner_factory is not None:
            return self.owner_factory(str(user_id))
        if self._owner_cls is None:
            try:
                from handlers.service import OwnerKey  # type: ignore[attr-defined]
            except ImportError:  # the service re-exports the store's key; fall back to it
                from store.repository import OwnerKey
            self._owner_cls = OwnerKey
        return self._owner_cls(CHANNEL, "", str(user_id))

    async def language(self, owner: Any, update: Update, replies: list[Reply] | None = None) -> str:
        """The owner's language for adapter texts: the service's if it knows, else Telegram's language_code."""
        for reply in replies or ():
            if reply.lang in prompts.LANGUAGES:
                return str(reply.lang)
        lookup = getattr(self.service, "language", None)
        if lookup is None:
            lookup = getattr(getattr(self.service, "repo", None) or getattr(self.service, "repository", None), "language", None)
        if callable(lookup):
            try:
                if asyncio.iscoroutinefunction(lookup):
                    result = await lookup(owner)
                else:  # a database read: keep it off the event loop
                    result = await asyncio.to_thread(lookup, owner)
                if result in prompts.LANGUAGES:
                    return str(result)
            except Exception:  # the language only picks adapter texts; never fail an update on it
                log.debug("language lookup failed", exc_info=True)
        user = update.effective_user
        return prompts.normalise_language(user.language_code if user else None)

    # -- building ------------------------------------------------------------------
    def build(self) -> Application:
        builder = (
            ApplicationBuilder()
            .token(self.settings.token)
            .rate_limiter(AIORateLimiter(overall_max_rate=self.settings.overall_max_rate, max_retries=self.settings.max_retries))
            .concurrent_updates(OwnerOrderedProcessor(self.settings.concurrent_updates))
            .post_init(self.post_init)
            .post_shutdown(self.post_shutdown)
        )
        if self.settings.api_url:
            builder = builder.base_url(f"{self.settings.api_url}/bot{{token}}").base_file_url(
                f"{self.settings.api_url}/file/bot{{token}}"
            )
        app = builder.build()
        self.add_handlers(app)
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
        app.add_handler(CommandHandler("start", self.on_start))
        app.add_handler(CommandHandler(known, self.on_command))
        # Unknown commands: in private chats the engine says so; in groups they may be for another bot.
        app.add_handler(MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, self.on_command))
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, self.on_text))
        # A photo, sticker or voice note in a private chat: its caption (often empty) is the answer,
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
        await self.register_commands(app)
        if self.settings.reminder_interval > 0 and hasattr(self.service, "reminders"):
            self._reminders = asyncio.create_task(self.reminder_loop(app.bot))

    async def post_shutdown(self, app: Application) -> None:
        task = getattr(self, "_reminders", None)
        if task is not None:
            task.cancel()

    async def reminder_loop(self, bot: Any) -> None:
        """Review reminders, scheduled in the database: each is claimed by one process only."""
        while True:
            try:
                await self.send_reminders(bot)
            except Exception:  # a failed round is retried at the next one
                log.warning("sending review reminders failed", exc_info=True)
            await asyncio.sleep(self.settings.reminder_interval)

    async def send_reminders(self, bot: Any) -> int:
        due = await asyncio.to_thread(self.service.reminders, CHANNEL)
        for owner, text in due:
            await bot.send_message(chat_id=int(owner.user_id), text=html.escape(text), parse_mode=ParseMode.HTML)
        return len(due)

    async def register_commands(self, app: Application) -> None:
        """The command menu in Dutch and English; English is also the default for other languages."""
        for lang in (*prompts.LANGUAGES, None):
            texts = prompts.load(lang or prompts.DEFAULT_LANGUAGE, "telegram")["commands"]
            commands = [BotCommand(name, texts[name]) for name in MENU_COMMANDS]
            try:
                await app.bot.set_my_commands(commands, language_code=lang)
            except TelegramError:
                log.warning("setMyCommands failed for %s", lang or "default", exc_info=True)

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
        await self.dispatch(update, context, Start(lang_hint=user.language_code))

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
        await self.dispatch(update, context, Text(message.text))

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        document = message.document
        if document is not None and _is_csv(document.file_name, document.mime_type) and (document.file_size or 0) <= MAX_CSV_BYTES:
            # customers' survey answers as a CSV file: its text is what /results takes
            file = await document.get_file()
            data = await file.download_as_bytearray()
            await self.dispatch(update, context, Command("results", bytes(data).decode("utf-8", errors="replace")))
            return
        await self.dispatch(update, context, Text(message.caption or ""))

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
            replies = await self.service.ahandle(
                owner,
                Choice(tap.value, step=tap.step),
                dedup_key=f"tg:{update.update_id}",
                lang_hint=update.effective_user.language_code,
            )
            lang = await self.language(owner, update, replies)
            stale = _is_stale(replies)
            same_step = [r for r in replies if r.type == "question" and r.step and same_step_key(tap.step, r.step)]
            errors = [r for r in replies if r.type == "error"]
            toast = render.say(lang, "stale_toast") if stale else (render.say(lang, "toggled") if same_step and not errors else None)
            answered = True
            await _quietly(query.answer(toast))  # a query too old to answer must not stop the reply
            chat_id = message.chat.id
            rest = replies
            if stale:
                # The old question keeps its text but loses its buttons; the engine re-asks the current one.
                await _quietly(context.bot.edit_message_reply_markup(chat_id, message.message_id, reply_markup=None))
            elif same_step and not errors:
                # A multi-choice toggle: update the tapped question in place.
                reply = same_step[-1]
                html = render.reply_messages(lang, reply)[0]
                await _quietly(
                    context.bot.edit_message_text(
                        html,
                        chat_id,
                        message.message_id,
                        parse_mode=ParseMode.HTML,
                        reply_markup=render.keyboard(reply),
                    )
                )
                rest = [r for r in replies if r is not reply]
            elif not errors and replies:
                label = render.button_label(message.reply_markup, query.data or "") or tap.value
                original = getattr(message, "text_html", None) or render.escape(getattr(message, "text", "") or "")
                html = original + render.chosen_suffix(lang, label)
                if render.units(html) > render.MAX_MESSAGE:
                    html = original
                await _quietly(
                    context.bot.edit_message_text(html, chat_id, message.message_id, parse_mode=ParseMode.HTML, reply_markup=None)
                )
            await self.render(context, _Delivery(chat_id, owner, lang), rest, update)
        finally:
            if not answered:
                with contextlib.suppress(TelegramError):
                    await query.answer()

    async def dispatch(self, update: Update, context: ContextTypes.DEFAULT_TYPE, event: Event) -> None:
        user = update.effective_user
        chat = update.effective_chat
        if user is None or chat is None:
            return
        owner = self.owner(user.id)
        replies = await self.service.ahandle(
            owner, event, dedup_key=f"tg:{update.update_id}", lang_hint=user.language_code
        )
        if not replies:
            return
        lang = await self.language(owner, update, replies)
        await self.render(context, _Delivery(chat.id, owner, lang), replies, update)

    # -- rendering ---------------------------------------------------------------------
    async def render(self, context: ContextTypes.DEFAULT_TYPE, to: _Delivery, replies: list[Reply], update: Update) -> None:
        bot = context.bot
        for reply in replies:
            if reply.type == "summary" and reply.journey_id is not None:
                await self.deliver_summary(bot, to, reply)
            elif reply.type == "export" and reply.journey_id is not None:
                await self.deliver_export(bot, to, reply.journey_id)
            elif reply.text.strip():
                parts = render.reply_messages(to.lang, reply)
                markup = render.keyboard(reply)
                for i, html in enumerate(parts):
                    last = i == len(parts) - 1
                    await bot.send_message(to.chat_id, html, parse_mode=ParseMode.HTML, reply_markup=markup if last else None)

    async def deliver_summary(self, bot: Any, to: _Delivery, reply: Reply) -> None:
        """'Working on it' and a typing indicator, then the report, the markdown file and the chart."""
        working = reply.text.strip() or render.say(to.lang, "working")
        await bot.send_message(to.chat_id, render.escape(working))
        async with _typing(bot, to.chat_id):
            report = await self.service.areport(to.owner, reply.journey_id)
        for html in render.report_messages(report, getattr(report, "language", None) or to.lang):
            await bot.send_message(to.chat_id, html, parse_mode=ParseMode.HTML)
        export = await asyncio.to_thread(self.service.export, to.owner, reply.journey_id, report)
        await self.send_files(bot, to, reply.journey_id, export)

    async def deliver_export(self, bot: Any, to: _Delivery, journey_id: int) -> None:
        async with _typing(bot, to.chat_id, ChatAction.UPLOAD_DOCUMENT):
            aexport = getattr(self.service, "aexport", None)
            if aexport is not None:
                export = await aexport(to.owner, journey_id)
            else:
                export = await asyncio.to_thread(self.service.export, to.owner, journey_id)
        await self.send_files(bot, to, journey_id, export)

    async def send_files(self, bot: Any, to: _Delivery, journey_id: int, export: Any) -> None:
        """The markdown file as a document, then the emotion curve as a photo."""
        await bot.send_document(
            to.chat_id,
            document=export.markdown.encode("utf-8"),
            filename=export.filename,
            caption=render.say(to.lang, "document_caption"),
        )
        png = await asyncio.to_thread(self.service.chart, to.owner, journey_id)
        if png:
            await bot.send_photo(
                to.chat_id, photo=png, filename="emotion-curve.png", caption=render.say(to.lang, "chart_caption")
            )

    # -- errors ---------------------------------------------------------------------------
    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("update failed: %s", context.error, exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        if isinstance(context.error, TelegramError) and not isinstance(context.error, BadRequest):
            return  # Telegram itself is unreachable: telling the owner would fail too
        key = "store_down" if type(context.error).__name__ == "StoreUnavailable" else "error"
        owner = self.owner(update.effective_user.id) if update.effective_user else None
        lang = prompts.normalise_language(update.effective_user.language_code if update.effective_user else None)
        if owner is not None and key == "error":
            with contextlib.suppress(Exception):
                lang = await self.language(owner, update)
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(update.effective_chat.id, render.escape(render.say(lang, key)))


def _is_stale(replies: list[Reply]) -> bool:
    stale_texts = {prompts.say(lang, "messages", "stale") for lang in prompts.LANGUAGES}
    return any(r.type == "info" and (r.data.get("stale") or r.text in stale_texts) for r in replies)


def _is_csv(name: str | None, mime: str | None) -> bool:
    return (name or "").lower().endswith(".csv") or (mime or "") in ("text/csv", "application/csv")


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
def build_application(service: Any, settings: TelegramSettings, **kwargs: Any) -> Application:
    return TelegramBot(service, settings, **kwargs).build()


ALLOWED_UPDATES = ["message", "callback_query"]


def webhook_kwargs(settings: TelegramSettings) -> dict[str, Any]:
    """Arguments shared by `Application.run_webhook` and `Updater.start_webhook`."""
    return {
        "listen": settings.listen,
        "port": settings.port,
        "url_path": settings.url_path,
        "webhook_url": settings.webhook_url,
        "secret_token": settings.webhook_secret,
        "drop_pending_updates": settings.drop_pending_updates,
        "allowed_updates": ALLOWED_UPDATES,
    }


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
    assert app.updater is not None
    if settings.webhook_url:
        await app.updater.start_webhook(**webhook_kwargs(settings))
    else:
        await app.updater.start_polling(**polling_kwargs(settings))


async def stop(app: Application) -> None:
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()


def run(service: Any, settings: TelegramSettings) -> None:
    """Run until interrupted: long polling, or a webhook server when `settings.webhook_url` is set."""
    settings.check()
    app = build_application(service, settings)
    if settings.webhook_url:
        log.info("Telegram webhook on %s:%s/%s", settings.listen, settings.port, settings.url_path)
        app.run_webhook(**webhook_kwargs(settings))
    else:
        log.info("Telegram long polling")
        app.run_polling(**polling_kwargs(settings))


def main(service: Any, env: Mapping[str, str] | None = None) -> int:
    """`journeybot telegram`: settings from the environment, then `run`. Returns an exit code."""
    try:
        settings = TelegramSettings.from_env(env)
    except SettingsError as exc:
        lang = prompts.normalise_language(os.environ.get("JOURNEYBOT_LANG") or os.environ.get("LANG"))
        print(exc.text(lang), file=sys.stderr)
        return 2
    run(service, settings)
    return 0
