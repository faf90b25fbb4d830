"""A fake Telegram Bot API server for tests and benchmarks.

The real python-telegram-bot stack talks to it over HTTP on loopback through
`ApplicationBuilder().base_url(f"{server.url}/bot{{token}}")` (or the adapter's
`TELEGRAM_API_URL=server.url`). It serves `/bot{token}/{method}`, long-polls
`getUpdates` from a queue that tests push updates into, keeps the bytes of uploaded
documents and photos, records every call, assigns message ids, remembers the
current state of every message it sent (text and keyboard after edits), and can be
told to answer the next N calls of a method with 429 + `parameters.retry_after`, or to
answer a method slowly (`delay`).

Use in the test's own event loop::

    async with FakeTelegram() as tg:
        ...  # tg.url, tg.push(private_text(...)), await tg.wait_for("sendMessage")

or from synchronous code (a benchmark) with `FakeTelegram.run_in_thread()`.
"""
from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from aiohttp import web

BOT_ID = 7000001
BOT_USERNAME = "journey_test_bot"
DEFAULT_TOKEN = "123456:TEST-token_abc"

# Fields whose form value is always a plain string, never JSON (a text "5" stays "5").
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "parse_mode",
        "action",
        "url",
        "secret_token",
        "language_code",
        "inline_message_id",
        "ip_address",
        "filename",
    }
)


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    files: dict[str, "Upload"] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)
    status: int = 200
    result: Any = None

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    @property
    def text(self) -> str:
        return str(self.params.get("text", self.params.get("caption", "")))

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        return self.params.get("reply_markup")

    def buttons(self) -> list[dict[str, Any]]:
        """The inline keyboard buttons, flattened row by row."""
        markup = self.reply_markup or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]


@dataclass
class Upload:
    filename: str
    content_type: str
    data: bytes


def _decode_value(name: str, raw: str) -> Any:
    if name in _STRING_FIELDS:
        return raw
    stripped = raw.strip()
    if not stripped:
        return raw
    if stripped[0] in "{[" or stripped in ("true", "false", "null") or stripped.lstrip("-").isdigit():
        try:
            return json.loads(stripped)
        except ValueError:
            return raw
    try:
        return float(stripped) if "." in stripped and stripped.replace(".", "", 1).lstrip("-").isdigit() else raw
    except ValueError:
        return raw


class FakeTelegram:
    """A Bot API double. Start it with `await start()` or `async with`."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.uploads: list[tuple[str, Upload]] = []
        self.webhook: dict[str, Any] = {"url": ""}
        self.commands: dict[str, list[dict[str, Any]]] = {}  # language -> the private chats' menu
        self.scoped_commands: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (scope type, language) -> menu
        self.descriptions: dict[tuple[str, str], str] = {}  # (description | short_description, language) -> text
        self._next_update_id = itertools.count(1000)
        self._next_message_id: dict[int, itertools.count] = defaultdict(lambda: itertools.count(1))
        self._next_file = itertools.count(1)
        self._failures: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        self.delays: dict[str, float] = {}  # method -> seconds each call of it waits before it is answered
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.downloads: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, bytes) users sent
        self.fetched: list[str] = []  # file paths the bot downloaded, in order
        self.served: dict[str, int] = {}  # file path -> bytes written to the bot before it stopped reading
        self.unsized: set[str] = set()  # file paths served without a Content-Length
        self._reported_sizes: dict[str, int] = {}
        self.handlers: dict[str, Callable[[dict[str, Any], dict[str, Upload]], Any]] = {
            "getMe": self._get_me,
            "getFile": self._get_file,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_reply_markup,
            "answerCallbackQuery": lambda p, f: True,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "sendChatAction": lambda p, f: True,
            "setMyCommands": self._set_my_commands,
            "setMyDescription": self._set_description("description", 512),
            "setMyShortDescription": self._set_description("short_description", 120),
            "deleteMyCommands": lambda p, f: True,
            "getMyCommands": lambda p, f: self.commands.get(p.get("language_code", ""), []),
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "deleteMessage": self._delete_message,
            "close": lambda p, f: True,
            "logOut": lambda p, f: True,
        }

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        """The root URL: requests go to `{url}/bot{token}/{method}`."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What `ApplicationBuilder().base_url()` wants."""
        return f"{self.url}/bot{{token}}"

    async def start(self) -> "FakeTelegram":
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Condition()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._file)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = site._server.sockets  # type: ignore[union-attr]
        self.port = sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "FakeTelegram":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @classmethod
    def run_in_thread(cls, token: str = DEFAULT_TOKEN) -> "FakeTelegram":
        """Start a server on its own event loop in a daemon thread (for sync code); `shutdown()` ends it."""
        server = cls(token)
        ready = threading.Event()

        def main() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            loop.run_until_complete(server.start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(server.stop())
            loop.close()

        server._thread = threading.Thread(target=main, name="fake-telegram", daemon=True)
        server._thread.start()
        ready.wait(10)
        return server

    def shutdown(self) -> None:
        if self._thread is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._thread = None

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run `fn(*args)` on the server's loop (thread-safe; for `run_in_thread`)."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(fn, *args)

    # ------------------------------------------------------------------ test API
    def push(self, update: dict[str, Any]) -> int:
        """Queue one update for getUpdates; assigns and returns its update_id.

        Must be called on the server's loop (from the test coroutine, or via `call_soon`).
        """
        update = dict(update)
        update.setdefault("update_id", next(self._next_update_id))
        self.updates.append(update)
        self._notify()
        return update["update_id"]

    def user_text(self, text: str, *, user_id: int, language_code: str | None = "en") -> dict[str, Any]:
        """A text the user types in their private chat with the bot. Its message id comes from the
        chat's own sequence, which the bot's messages share, as in Telegram: a message the user
        wrote before seeing a reply has a smaller id than that reply."""
        return private_text(text, user_id=user_id, language_code=language_code, message_id=next(self._next_message_id[user_id]))

    def new_update_id(self) -> int:
        return next(self._next_update_id)

    def fail_next(self, method: str, times: int = 1, *, retry_after: int = 1, status: int = 429) -> None:
        """Answer the next `times` calls of `method` with an error (429 + retry_after by default)."""
        body: dict[str, Any] = {"ok": False, "error_code": status}
        if status == 429:
            body["description"] = f"Too Many Requests: retry after {retry_after}"
            body["parameters"] = {"retry_after": retry_after}
        elif status >= 500:
            body["description"] = "Internal Server Error: injected failure"
        else:
            body["description"] = "Bad Request: injected failure"
        self._failures[method].extend([(status, body)] * times)

    def delay(self, method: str, seconds: float) -> None:
        """Answer every call of `method` `seconds` late (0 ends it). While it waits the call is listed
        with status 0; a call whose client went away meanwhile stays at 0 and did nothing."""
        self.delays[method] = seconds

    def calls_of(self, *methods: str, chat_id: Any = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method in methods and c.status == 200 and (chat_id is None or c.chat_id == chat_id)
        ]

    def sent(self, chat_id: Any = None) -> list[Call]:
        """Successful sendMessage calls, oldest first."""
        return self.calls_of("sendMessage", chat_id=chat_id)

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """The current state (after edits) of a message the bot sent."""
        return self.messages[(int(chat_id), int(message_id))]

    def last_message(self, chat_id: int) -> dict[str, Any]:
        own = [m for (c, _), m in self.messages.items() if c == int(chat_id)]
        return max(own, key=lambda m: m["message_id"])

    async def wait_for(
        self,
        method: str | Iterable[str],
        predicate: Callable[[Call], bool] | None = None,
        *,
        count: int = 1,
        after: int = 0,
        timeout: float = 5.0,
    ) -> list[Call]:
        """Wait until at least `count` successful calls of `method` (index >= `after`) match."""
        methods = {method} if isinstance(method, str) else set(method)
        assert self._changed is not None

        def matching() -> list[Call]:
            return [
                c
                for c in self.calls[after:]
                if c.method in methods and c.status == 200 and (predicate is None or predicate(c))
            ]

        async def waiter() -> list[Call]:
            async with self._changed:  # type: ignore[union-attr]
                while len(found := matching()) < count:
                    await self._changed.wait()  # type: ignore[union-attr]
                return found

        try:
            return await asyncio.wait_for(waiter(), timeout)
        except asyncio.TimeoutError:
            seen = [(c.method, c.status, c.text[:80]) for c in self.calls[after:]]
            raise AssertionError(
                f"timed out after {timeout}s waiting for {count} x {sorted(methods)}; calls since {after}: {seen}"
            ) from None

    async def wait_idle(self, quiet: float = 0.15, timeout: float = 5.0) -> None:
        """Wait until no call other than getUpdates arrived for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            busy = [c for c in self.calls if c.method != "getUpdates"]
            last = busy[-1].at if busy else 0.0
            if time.monotonic() - last >= quiet:
                return
            await asyncio.sleep(quiet / 3)
        raise AssertionError("the bot did not go quiet")

    def mark(self) -> int:
        """An index into `calls` for `wait_for(after=...)`."""
        return len(self.calls)

    # ------------------------------------------------------------------ HTTP
    def _notify(self) -> None:
        changed = self._changed
        if changed is None:
            return

        async def notify() -> None:
            async with changed:
                changed.notify_all()

        asyncio.ensure_future(notify())

    async def _dispatch(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        params, files = await self._read_params(request)
        call = Call(method=method, params=params, files=files)
        self.calls.append(call)
        try:
            if token != self.token:
                call.status = 401
                return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
            if self.delays.get(method):
                call.status = 0  # in flight
                self._notify()
                await asyncio.sleep(self.delays[method])
                call.status = 200
            if self._failures.get(method):
                status, body = self._failures[method].pop(0)
                call.status = status
                return web.json_response(body, status=status)
            handler = self.handlers.get(method)
            if handler is None:
                call.status = 404
                return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
            try:
                result = handler(params, files)
                if asyncio.iscoroutine(result):
                    result = await result
            except _ApiError as err:
                call.status = err.code
                return web.json_response(
                    {"ok": False, "error_code": err.code, "description": err.description}, status=err.code
                )
            call.result = result
            return web.json_response({"ok": True, "result": result})
        finally:
            self._notify()

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
        params: dict[str, Any] = {}
        files: dict[str, Upload] = {}
        if request.content_type == "application/json":
            body = await request.read()
            return (json.loads(body) if body else {}), files
        if request.method == "GET":
            form = request.query
        else:
            form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = Upload(value.filename or key, value.content_type, value.file.read())
            else:
                params[key] = _decode_value(key, str(value))
        # `attach://name` references (input media) stay strings; top-level file fields win.
        for key, upload in files.items():
            params.setdefault(key, f"<file {upload.filename}>")
        return params, files

    async def _file(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        for file_path, data in self.downloads.values():
            if file_path == path and request.match_info["token"] == self.token:
                self.fetched.append(path)
                return await self._stream(request, path, data)
        raise web.HTTPNotFound()

    async def _stream(self, request: web.Request, path: str, data: bytes, chunk: int = 64 * 1024) -> web.StreamResponse:
        """The bytes in chunks, counting in `served` what went out before the bot hung up; without a
        Content-Length (chunked) for a file added with `unsized`."""
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        if path not in self.unsized:
            response.content_length = len(data)
        await response.prepare(request)
        self.served[path] = 0
        try:
            for start in range(0, len(data), chunk):
                await response.write(data[start : start + chunk])
                self.served[path] = start + len(data[start : start + chunk])
            await response.write_eof()
        except (ConnectionError, asyncio.CancelledError):
            pass
        return response

    def add_download(
        self, data: bytes, file_name: str, *, reported_size: int | None = None, folder: str = "documents", unsized: bool = False
    ) -> str:
        """A file a user sends: returns its file_id for a document (or, with `folder="voice"`, a
        voice) update.

        `reported_size` makes getFile claim another size than the bytes served (a lying server);
        `unsized` serves it without a Content-Length, so only the bytes tell how large it is."""
        file_id = f"doc{next(self._next_file)}"
        self.downloads[file_id] = (f"{folder}/{file_id}/{file_name}", data)
        if unsized:
            self.unsized.add(f"{folder}/{file_id}/{file_name}")
        if reported_size is not None:
            self._reported_sizes[file_id] = reported_size
        return file_id

    def _get_file(self, params: dict[str, Any], files: dict[str, Upload]) -> dict[str, Any]:
        file_id = str(params.get("file_id"))
        if file_id not in self.downloads:
            raise _ApiError(400, "Bad Request: invalid file_id")
        path, data = self.downloads[file_id]
        size = self._reported_sizes.get(file_id, len(data))
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": size, "file_path": path}

    # ------------------------------------------------------------------ methods
    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Journey",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _get_me(self, params: dict[str, Any], files: dict[str, Upload]) -> dict[str, Any]:
        return self._bot_user()

    async def _get_updates(self, params: dict[str, Any], files: dict[str, Upload]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if offset:
            # Confirmed updates are gone for good, as with Telegram.
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        assert self._changed is not None
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not self.updates:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except asyncio.TimeoutError:
                    break
        return self.updates[:limit]

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        chat_id = int(chat_id)
        return {"id": chat_id, "type": "private" if chat_id > 0 else "group", **({} if chat_id > 0 else {"title": "Group"})}

    def _new_message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        if "chat_id" not in params:
            raise _ApiError(400, "Bad Request: chat_id is empty")
        chat_id = int(params["chat_id"])
        message = {
            "message_id": next(self._next_message_id[chat_id]),
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": self._bot_user(),
            **extra,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _send_message(self, params: dict[str, Any], files: dict[str, Upload]) -> dict[str, Any]:
        text = params.get("text", "")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        _check_markup(params.get("reply_markup"))
        return self._new_message(params, **self._text_fields(params, text))

    @staticmethod
    def _text_fields(params: dict[str, Any], text: str) -> dict[str, Any]:
        """Telegram keeps the plain text and entities, not the HTML that was sent."""
        if params.get("parse_mode") != "HTML":
            return {"text": text}
        _check_html(text)
        plain, entities = html_to_entities(text)
        if not plain.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(plain.encode("utf-16-le")) // 2 > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        return {"text": plain, "entities": entities} if entities else {"text": plain}

    def _find(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (int(params.get("chat_id", 0)), int(params.get("message_id", 0)))
        if key not in self.messages:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return self.messages[key]

    def _edit_message_text(self, params: dict[str, Any], files: dict[str, Upload]) -> dict[str, Any]:
        message = self._find(params)
        text = params.get("text", "")
        if not text or len(text) > 4096:
            raise _ApiError(400, "Bad Request: text is empty or too long")
        _check_markup(params.get("reply_markup"))
        fields = self._text_fields(params, text)
        if fields["text"] == message.get("text") and params.get("reply_markup") == message.get("reply_markup"):
            raise _ApiError(400, "Bad Request: message is not modified")
        message.pop("entities", None)
        message.update(fields)
        message.pop("reply_markup", None)
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        message["edit_date"] = int(time.time())
        return message

    def _edit_reply_markup(self, params: dict[str, Any], files: dict[str, Upload]) -> dict[str, Any]:
        message = self._find(params)
        _check_markup(params.get("reply_markup"))
        message.pop("reply_markup", None)
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    def _delete_message(self, params: dict[str, Any], files: dict[str, Upload]) -> bool:
        message = self._find(params)
        del self.messages[(message["chat"]["id"], message["message_id"])]
        return True

    def _upload(self, field_name: str, params: dict[str, Any], files: dict[str, Upload]) -> Upload:
        if field_name not in files:
            raise _ApiError(400, f"Bad Request: there is no {field_name} in the request")
        upload = files[field_name]
        self.uploads.append((field_name, upload))
        caption = params.get("caption")
        if caption is not None and len(str(caption)) > 1024:
            raise _ApiError(400, "Bad Request: message caption is too long")
        return upload

    def _file_ids(self) -> dict[str, str]:
        n = next(self._next_file)
        return {"file_id": f"FILE{n}", "file_unique_id": f"U{n}"}

    def _send_document(self, params: dict[str, Any], files: dict[str, Upload]) -> dict[str, Any]:
        upload = self._upload("document", params, files)
        doc = {**self._file_ids(), "file_name": upload.filename, "file_size": len(upload.data)}
        if upload.content_type:
            doc["mime_type"] = upload.content_type
        extra: dict[str, Any] = {"document": doc}
        if params.get("caption"):
            extra["caption"] = params["caption"]
        return self._new_message(params, **extra)

    def _send_photo(self, params: dict[str, Any], files: dict[str, Upload]) -> dict[str, Any]:
        upload = self._upload("photo", params, files)
        width, height = _png_size(upload.data)
        photo = [{**self._file_ids(), "width": width, "height": height, "file_size": len(upload.data)}]
        extra: dict[str, Any] = {"photo": photo}
        if params.get("caption"):
            extra["caption"] = params["caption"]
        return self._new_message(params, **extra)

    def _set_my_commands(self, params: dict[str, Any], files: dict[str, Upload]) -> bool:
        commands = params.get("commands") or []
        for c in commands:
            if not (1 <= len(c.get("command", "")) <= 32) or not (1 <= len(c.get("description", "")) <= 256):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        scope = (params.get("scope") or {}).get("type", "default")
        lang = params.get("language_code", "") or ""
        self.scoped_commands[(scope, lang)] = commands
        if scope in ("default", "all_private_chats"):
            self.commands[lang] = commands  # what a private chat shows
        return True

    def _set_description(self, field_name: str, limit: int) -> Callable[[dict[str, Any], dict[str, Upload]], bool]:
        def handler(params: dict[str, Any], files: dict[str, Upload]) -> bool:
            text = str(params.get(field_name, ""))
            if len(text) > limit:
                raise _ApiError(400, f"Bad Request: {field_name} is too long")
            self.descriptions[(field_name, params.get("language_code", "") or "")] = text
            return True

        return handler

    def _delete_webhook(self, params: dict[str, Any], files: dict[str, Upload]) -> bool:
        self.webhook = {"url": ""}
        return True

    def _set_webhook(self, params: dict[str, Any], files: dict[str, Upload]) -> bool:
        self.webhook = {"url": params.get("url", ""), "secret_token": params.get("secret_token")}
        return True

    def _get_webhook_info(self, params: dict[str, Any], files: dict[str, Upload]) -> dict[str, Any]:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }


class _ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _check_markup(markup: Any) -> None:
    if not markup:
        return
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not (1 <= len(data.encode("utf-8")) <= 64):
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if not button.get("text"):
                raise _ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")


_HTML_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre", "blockquote", "tg-emoji"}
)
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


def _check_html(text: str) -> None:
    """Roughly what Telegram's HTML parse mode rejects: unknown or unbalanced tags, bare '&'."""
    for match in re.finditer("&", text):
        if not _ENTITY.match(text, match.start()):
            raise _ApiError(400, f"Bad Request: can't parse entities: unsupported entity at byte offset {match.start()}")
    stack: list[str] = []
    for match in re.finditer(r"<(/?)([a-zA-Z][\w-]*)?([^<>]*)>|<", text):
        closing, tag, _ = match.groups()
        if tag is None:
            raise _ApiError(400, f"Bad Request: can't parse entities: unexpected '<' at offset {match.start()}")
        tag = tag.lower()
        if tag not in _HTML_TAGS:
            raise _ApiError(400, f"Bad Request: can't parse entities: unsupported start tag \"{tag}\"")
        if closing:
            if not stack or stack.pop() != tag:
                raise _ApiError(400, f"Bad Request: can't parse entities: unmatched end tag \"{tag}\"")
        else:
            stack.append(tag)
    if stack:
        raise _ApiError(400, f"Bad Request: can't parse entities: can't find end tag corresponding to start tag \"{stack[-1]}\"")
    if ">" in re.sub(r"<[^<>]*>", "", text):
        pass  # Telegram tolerates a bare '>'


_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "blockquote": "blockquote",
}


def html_to_entities(text: str) -> tuple[str, list[dict[str, Any]]]:
    """What Telegram stores for an HTML message: the plain text and its entities (UTF-16 offsets)."""
    plain: list[str] = []
    units = 0
    open_tags: list[tuple[str, int, str]] = []
    entities: list[dict[str, Any]] = []
    pos = 0
    for match in re.finditer(r"<(/?)([a-zA-Z][\w-]*)([^<>]*)>", text):
        chunk = html.unescape(text[pos : match.start()])
        plain.append(chunk)
        units += len(chunk.encode("utf-16-le")) // 2
        pos = match.end()
        closing, tag, attrs = match.group(1), match.group(2).lower(), match.group(3)
        if not closing:
            href = re.search(r'href="([^"]*)"', attrs)
            open_tags.append((tag, units, html.unescape(href.group(1)) if href else ""))
            continue
        for i in range(len(open_tags) - 1, -1, -1):
            if open_tags[i][0] == tag:
                _, start, url = open_tags.pop(i)
                if units > start:
                    entity: dict[str, Any] = {"type": _ENTITY_TYPES.get(tag, "bold"), "offset": start, "length": units - start}
                    if tag == "a":
                        entity["url"] = url
                    entities.append(entity)
                break
    plain.append(html.unescape(text[pos:]))
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(plain), entities


def visible_text(text: str) -> str:
    """The text the owner sees for an HTML message: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^<>]*>", "", text))


def _png_size(data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 0, 0


# ---------------------------------------------------------------------- update builders
def user(user_id: int = 4242, *, first_name: str = "Ann", language_code: str | None = "en") -> dict[str, Any]:
    out: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        out["language_code"] = language_code
    return out


_message_ids = itertools.count(100000)


def _message(
    text: str,
    *,
    user_id: int,
    chat_id: int | None,
    language_code: str | None,
    entities: list[dict[str, Any]] | None = None,
    reply_to: dict[str, Any] | None = None,
    message_id: int | None = None,
) -> dict[str, Any]:
    chat_id = user_id if chat_id is None else chat_id
    chat: dict[str, Any] = {"id": chat_id, "type": "private" if chat_id > 0 else "group"}
    if chat_id > 0:
        chat["first_name"] = "Ann"
    else:
        chat["title"] = "Shop team"
    msg: dict[str, Any] = {
        "message_id": message_id if message_id is not None else next(_message_ids),
        "date": int(time.time()),
        "chat": chat,
        "from": user(user_id, language_code=language_code),
        "text": text,
    }
    if entities:
        msg["entities"] = entities
    if reply_to is not None:
        msg["reply_to_message"] = reply_to
    return msg


def private_text(
    text: str,
    *,
    user_id: int = 4242,
    language_code: str | None = "en",
    chat_id: int | None = None,
    message_id: int | None = None,
) -> dict[str, Any]:
    """An update with a plain text message in a private chat (or in `chat_id`)."""
    return {"message": _message(text, user_id=user_id, chat_id=chat_id, language_code=language_code, message_id=message_id)}


def command(
    name: str,
    arg: str = "",
    *,
    user_id: int = 4242,
    language_code: str | None = "en",
    chat_id: int | None = None,
    mention: bool = False,
) -> dict[str, Any]:
    """An update with `/name[@bot] arg`, with the bot_command entity Telegram adds."""
    head = f"/{name}" + (f"@{BOT_USERNAME}" if mention else "")
    text = head + (f" {arg}" if arg else "")
    entities = [{"type": "bot_command", "offset": 0, "length": len(head)}]
    return {
        "message": _message(text, user_id=user_id, chat_id=chat_id, language_code=language_code, entities=entities)
    }


def reply_to_bot(
    text: str, bot_message: dict[str, Any], *, user_id: int = 4242, language_code: str | None = "en"
) -> dict[str, Any]:
    """A message that replies to one the bot sent (a dict from `FakeTelegram.messages`)."""
    chat_id = bot_message["chat"]["id"]
    return {
        "message": _message(
            text, user_id=user_id, chat_id=chat_id, language_code=language_code, reply_to=dict(bot_message)
        )
    }


def document(
    file_id: str, file_name: str, size: int, *, mime_type: str = "text/csv", user_id: int = 4242, language_code: str | None = "en"
) -> dict[str, Any]:
    """An update with a document (a file) sent in a private chat."""
    msg = _message("", user_id=user_id, chat_id=None, language_code=language_code)
    del msg["text"]
    msg["document"] = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": file_name, "mime_type": mime_type, "file_size": size}
    return {"message": msg}


def voice(
    file_id: str,
    *,
    duration: int,
    size: int | None,
    mime_type: str = "audio/ogg",
    user_id: int = 4242,
    language_code: str | None = "en",
    audio_file: str | None = None,
    chat_id: int | None = None,
) -> dict[str, Any]:
    """An update with a voice note (or, with `audio_file` naming it, an audio file) in a private chat."""
    msg = _message("", user_id=user_id, chat_id=chat_id, language_code=language_code)
    del msg["text"]
    media: dict[str, Any] = {"file_id": file_id, "file_unique_id": f"u{file_id}", "duration": duration, "mime_type": mime_type}
    if size is not None:
        media["file_size"] = size
    if audio_file is not None:
        media["file_name"] = audio_file
    msg["audio" if audio_file is not None else "voice"] = media
    return {"message": msg}


def callback(
    data: str,
    message: dict[str, Any],
    *,
    user_id: int = 4242,
    language_code: str | None = "en",
    query_id: str | None = None,
) -> dict[str, Any]:
    """An update for a tap on an inline button of `message` (a bot message dict)."""
    return {
        "callback_query": {
            "id": query_id or f"cbq{next(_message_ids)}",
            "from": user(user_id, language_code=language_code),
            "chat_instance": f"ci{message['chat']['id']}",
            "message": dict(message),
            "data": data,
        }
    }
