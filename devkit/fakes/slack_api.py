"""A fake Slack Web API for tests, plus a client that signs requests to a Bolt app.

`FakeSlack` is an aiohttp server on 127.0.0.1 (random port). Point the real
`slack_sdk.web.async_client.AsyncWebClient` at it with `base_url=fake.api_url`
(`http://127.0.0.1:PORT/api/`, what the adapter reads from `SLACK_API_URL`). It serves
auth.test, chat.postMessage, chat.update, chat.postEphemeral, conversations.open,
conversations.members, users.info, files.getUploadURLExternal (+ the upload URL that
takes the POSTed bytes), files.completeUploadExternal, files.info and views.publish (the
App Home view, kept per user in `fake.home_views`), and response URLs (`fake.response_url(name)`)
for Bolt's `respond()`.

Every call is recorded (`fake.calls`, `fake.calls_of(...)`, `await fake.wait_for(...)`);
messages keep their current state after `chat.update`; uploads keep their bytes. Block Kit
payloads are checked against Slack's limits and refused with `invalid_blocks` like Slack
does. `delay(method, seconds)` slows a method down, `fail(method, error)` makes its next
calls answer `ok: false`, `rate_limit(method)` answers 429 with Retry-After.

`SlackSigner` signs and posts slash commands (form-encoded), events (JSON, optional
`X-Slack-Retry-Num`) and block actions (`payload=<urlencoded JSON>`) to a Bolt app; `home_opened`
and `home_action` send what Slack sends when a user opens the App Home tab or taps a button there.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import web

TEAM_ID = "T0TEAM1"
TEAM_NAME = "Bakery Team"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
BOT_TOKEN = "xoxb-test-token"
SIGNING_SECRET = "test-signing-secret"

# Form fields that stay strings even when they look like JSON or numbers.
_STRING_FIELDS = frozenset({"text", "channel", "channel_id", "ts", "user", "users", "filename", "title", "initial_comment"})


@dataclass
class Call:
    """One request the bot made to the fake."""

    method: str
    params: dict[str, Any]
    token: str | None = None
    at: float = field(default_factory=time.monotonic)
    response: dict[str, Any] | None = None

    @property
    def channel(self) -> Any:
        return self.params.get("channel") or self.params.get("channel_id")

    @property
    def text(self) -> str:
        return str(self.params.get("text") or "")

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return _blocks(self.params.get("blocks"))

    def all_text(self) -> str:
        """The fallback text plus every text inside the blocks, for `in` assertions."""
        return "\n".join([self.text, *block_texts(self.blocks)])

    def buttons(self) -> list[dict[str, Any]]:
        return buttons_of(self.blocks)


@dataclass
class Upload:
    file_id: str
    filename: str
    length: int
    data: bytes | None = None
    title: str | None = None
    channel: str | None = None
    completed: bool = False


def _blocks(raw: Any) -> list[dict[str, Any]]:
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        return list(json.loads(raw))
    return list(raw)


def block_texts(blocks: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return out


def buttons_of(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        element
        for block in blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
        if element.get("type") == "button"
    ]


def check_blocks(blocks: list[dict[str, Any]]) -> str | None:
    """Slack's Block Kit limits; a description of the first violation, or None."""
    if len(blocks) > 50:
        return f"too many blocks: {len(blocks)}"
    for index, block in enumerate(blocks):
        kind = block.get("type")
        if len(str(block.get("block_id", ""))) > 255:
            return f"block {index}: block_id too long"
        if kind == "section":
            text = block.get("text") or {}
            if len(text.get("text", "")) > 3000:
                return f"block {index}: section text longer than 3000"
            if not text and not block.get("fields"):
                return f"block {index}: section without text"
            for f in block.get("fields", []):
                if len(f.get("text", "")) > 2000:
                    return f"block {index}: field longer than 2000"
            if len(block.get("fields", [])) > 10:
                return f"block {index}: more than 10 fields"
        elif kind == "header":
            if len(block.get("text", {}).get("text", "")) > 150:
                return f"block {index}: header longer than 150"
        elif kind == "context":
            if len(block.get("elements", [])) > 10:
                return f"block {index}: more than 10 context elements"
            for element in block.get("elements", []):
                if len(element.get("text", "")) > 3000:
                    return f"block {index}: context text longer than 3000"
        elif kind == "actions":
            elements = block.get("elements", [])
            if not elements or len(elements) > 25:
                return f"block {index}: {len(elements)} action elements"
            for element in elements:
                if element.get("type") == "button":
                    if len(element.get("text", {}).get("text", "")) > 75:
                        return f"block {index}: button text longer than 75"
                    if len(str(element.get("value", ""))) > 2000:
                        return f"block {index}: button value longer than 2000"
                    if not element.get("action_id") or len(element["action_id"]) > 255:
                        return f"block {index}: bad action_id"
        elif kind in ("divider", "image", "input", "rich_text", "file", "video"):
            pass
        else:
            return f"block {index}: unknown type {kind!r}"
    return None


MAX_VIEW_BLOCKS = 100  # a Home view (modals too) holds at most 100 blocks


def check_view_blocks(blocks: list[dict[str, Any]], known_files: set[str]) -> str | None:
    """Slack's limits for a view's blocks: at most 100, each as in a message; an image block needs
    alt text and an image_url or a slack_file, and a slack_file must be a file Slack knows."""
    if len(blocks) > MAX_VIEW_BLOCKS:
        return f"too many blocks: {len(blocks)}"
    for start in range(0, len(blocks), 50):
        problem = check_blocks(blocks[start : start + 50])
        if problem:
            return f"(from block {start}) {problem}"
    for index, block in enumerate(blocks):
        if block.get("type") != "image":
            continue
        alt = block.get("alt_text")
        if not isinstance(alt, str) or not alt or len(alt) > 2000:
            return f"block {index}: image without alt_text (or longer than 2000)"
        file = block.get("slack_file")
        if file is None and not block.get("image_url"):
            return f"block {index}: image without image_url or slack_file"
        if file is not None:
            file_id = file.get("id") if isinstance(file, dict) else None
            if not file_id or file_id not in known_files:
                return f"block {index}: unknown slack_file {file_id!r}"
    return None


LOGIN_PAGE = "<!DOCTYPE html>\n<html lang=\"en-US\"><head><title>Slack</title></head><body>Sign in to your workspace</body></html>\n"


class FakeSlack:
    """A Slack Web API double. `async with FakeSlack() as slack:`."""

    def __init__(
        self,
        *,
        token: str = BOT_TOKEN,
        team_id: str = TEAM_ID,
        team_name: str = TEAM_NAME,
        bot_user_id: str = BOT_USER_ID,
        host: str = "127.0.0.1",
    ) -> None:
        self.token = token
        self.team_id = team_id
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.host = host
        self.port = 0
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.uploads: dict[str, Upload] = {}
        self.user_files: dict[str, bytes] = {}
        self.user_file_objects: dict[str, dict[str, Any]] = {}  # file id -> the full file object (files.info)
        self.fetched: list[str] = []  # ids of the user files the app downloaded, in order
        self.files_readable = True  # False: an app without files:read, which Slack answers with its HTML login page (200)
        self.responses: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.users: dict[str, dict[str, Any]] = {}
        self.members: dict[str, list[str]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}  # user id -> the Home view last published for them
        self._delays: dict[str, float] = {}
        self._failures: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
        self._ts = itertools.count(1)
        self._files = itertools.count(1)
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self.handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "conversations.open": self._conversations_open,
            "conversations.members": self._conversations_members,
            "users.info": self._users_info,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "files.info": self._files_info,
            "views.publish": self._views_publish,
        }

    # ------------------------------------------------------------------ lifecycle
    @property
    def root(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The Web API base URL (what SLACK_API_URL holds)."""
        return f"{self.root}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.root}/respond/{name}"

    async def start(self) -> "FakeSlack":
        self._changed = asyncio.Condition()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._dispatch)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/respond/{name}", self._respond)
        app.router.add_get("/files-pri/{file_id}/{name}", self._private_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    def add_user_file(self, data: bytes, name: str, *, mimetype: str = "text/csv", filetype: str = "csv", **extra: Any) -> dict[str, Any]:
        """A file a user shared: the `files` entry of a file_share message event."""
        file_id = f"F{len(self.user_files) + 1:08d}"
        self.user_files[file_id] = data
        file = {
            "id": file_id,
            "name": name,
            "mimetype": mimetype,
            "filetype": filetype,
            "size": len(data),
            "url_private_download": f"{self.root}/files-pri/{file_id}/{name}",
            **extra,
        }
        self.user_file_objects[file_id] = file
        return dict(file)

    def add_user_audio(
        self,
        data: bytes,
        *,
        seconds: float = 5,
        name: str = "audio_message.webm",
        mimetype: str = "audio/webm",
        reported_size: int | None = None,
        partial: bool = False,
    ) -> dict[str, Any]:
        """A voice clip a user recorded in the DM (`subtype: slack_audio`, its length in `duration_ms`).
        `reported_size` makes Slack declare another size than the bytes served; `partial` returns the
        short form Slack sometimes puts in events (`file_access: check_file_info`), which only
        files.info completes."""
        filetype = name.rsplit(".", 1)[-1]
        file = self.add_user_file(data, name, mimetype=mimetype, filetype=filetype, subtype="slack_audio", duration_ms=int(seconds * 1000))
        if reported_size is not None:
            file["size"] = self.user_file_objects[file["id"]]["size"] = reported_size
        if partial:
            return {"id": file["id"], "file_access": "check_file_info"}
        return file

    async def _private_file(self, request: web.Request) -> web.Response:
        # Slack serves private files only to a request carrying the bot token
        if request.headers.get("Authorization") != f"Bearer {BOT_TOKEN}":
            raise web.HTTPForbidden()
        if not self.files_readable:
            return web.Response(text=LOGIN_PAGE, content_type="text/html")
        file_id = request.match_info["file_id"]
        data = self.user_files.get(file_id)
        if data is None:
            raise web.HTTPNotFound()
        self.fetched.append(file_id)
        return web.Response(body=data, content_type=str(self.user_file_objects.get(file_id, {}).get("mimetype") or "text/csv"))

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "FakeSlack":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ test controls
    def add_user(self, user_id: str, *, team_id: str | None = None, locale: str = "en-US", name: str = "", is_bot: bool = False) -> None:
        self.users[user_id] = {
            "id": user_id,
            "team_id": team_id or self.team_id,
            "name": name or user_id.lower(),
            "real_name": name or user_id,
            "locale": locale,
            "is_bot": is_bot,
            "deleted": False,
        }

    def set_members(self, channel: str, users: list[str]) -> None:
        self.members[channel] = list(users)

    def delay(self, method: str, seconds: float) -> None:
        """Answer `method` only after `seconds` (0 removes the delay). `response_url` for respond()."""
        self._delays[method] = seconds

    def fail(self, method: str, error: str = "internal_error", *, times: int = 1, status: int = 200) -> None:
        """The next `times` calls of `method` answer `{"ok": false, "error": error}` with `status`."""
        self._failures[method].append((error, times, status))

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        self._failures[method].append((f"ratelimited:{retry_after}", times, 429))

    def calls_of(self, *methods: str, channel: str | None = None) -> list[Call]:
        return [
            c for c in self.calls if c.method in methods and (channel is None or c.channel == channel)
        ]

    def mark(self) -> int:
        return len(self.calls)

    def since(self, mark: int, *methods: str) -> list[Call]:
        return [c for c in self.calls[mark:] if not methods or c.method in methods]

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        return self.messages[(channel, ts)]

    def dm_channel(self, user_id: str) -> str:
        return f"D{user_id}"

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        *,
        since: int = 0,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 10.0,
    ) -> list[Call]:
        """Wait until at least `count` calls of `method` (after `since`) match; returns them."""

        def matching() -> list[Call]:
            return [c for c in self.calls[since:] if c.method == method and (predicate is None or predicate(c))]

        assert self._changed is not None

        async def waiter() -> list[Call]:
            async with self._changed:
                while len(matching()) < count:
                    await self._changed.wait()
                return matching()

        try:
            return await asyncio.wait_for(waiter(), timeout)
        except asyncio.TimeoutError:
            got = [(c.method, c.all_text()[:80]) for c in self.calls[since:]]
            raise AssertionError(f"timed out waiting for {count} x {method}; calls since mark: {got}") from None

    async def wait_idle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Wait until no call arrived for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        last = len(self.calls)
        while time.monotonic() < deadline:
            await asyncio.sleep(quiet)
            if len(self.calls) == last:
                return
            last = len(self.calls)
        raise AssertionError("the bot kept calling the API")

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    # ------------------------------------------------------------------ HTTP
    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        body = await request.read()
        ctype = request.headers.get("Content-Type", "")
        if body:
            if "json" in ctype:
                params.update(json.loads(body))
            else:
                for key, value in parse_qsl(body.decode("utf-8"), keep_blank_values=True):
                    params[key] = value
        for key, value in list(params.items()):
            if isinstance(value, str) and key not in _STRING_FIELDS and value[:1] in "[{":
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    pass
        return params

    async def _dispatch(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._read_params(request)
        auth = request.headers.get("Authorization", "")
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else params.pop("token", None)
        call = Call(method, params, token)
        self.calls.append(call)
        try:
            if self._delays.get(method):
                await asyncio.sleep(self._delays[method])
            status, body, headers = self._answer(method, params, token)
            call.response = body
            return web.json_response(body, status=status, headers=headers)
        finally:
            await self._notify()

    def _answer(self, method: str, params: dict[str, Any], token: str | None) -> tuple[int, dict[str, Any], dict[str, str]]:
        queue = self._failures.get(method)
        if queue:
            error, times, status = queue[0]
            if times <= 1:
                queue.pop(0)
            else:
                queue[0] = (error, times - 1, status)
            if error.startswith("ratelimited:"):
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": error.split(":", 1)[1]}
            return status, {"ok": False, "error": error}, {}
        if token != self.token:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        handler = self.handlers.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        try:
            result = handler(params)
        except _ApiError as exc:
            return 200, {"ok": False, "error": exc.error, "response_metadata": {"messages": [exc.detail]}}, {}
        return 200, {"ok": True, **result}, {}

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        data = await request.read()
        self.calls.append(Call("upload", {"file_id": file_id, "length": len(data)}))
        try:
            if self._delays.get("upload"):
                await asyncio.sleep(self._delays["upload"])
            upload = self.uploads.get(file_id)
            if upload is None:
                return web.Response(status=404, text="unknown upload")
            upload.data = data
            return web.Response(text=f"OK - {len(data)}")
        finally:
            await self._notify()

    async def _respond(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.read()
        payload = json.loads(body) if body else {}
        self.calls.append(Call("response_url", {**payload, "response_url": name}))
        try:
            if self._delays.get("response_url"):
                await asyncio.sleep(self._delays["response_url"])
            problem = check_blocks(_blocks(payload.get("blocks")))
            if problem:
                return web.Response(status=400, text=f"invalid_blocks: {problem}")
            self.responses[name].append(payload)
            return web.Response(text="ok")
        finally:
            await self._notify()

    # ------------------------------------------------------------------ methods
    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": f"https://{self.team_name.lower().replace(' ', '')}.slack.com/",
            "team": self.team_name,
            "user": "journeybot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.000100"

    def _check_message(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if not params.get("channel"):
            raise _ApiError("channel_not_found", "no channel")
        blocks = _blocks(params.get("blocks"))
        if not blocks and not params.get("text"):
            raise _ApiError("no_text", "text or blocks required")
        problem = check_blocks(blocks)
        if problem:
            raise _ApiError("invalid_blocks", problem)
        return blocks

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        blocks = self._check_message(params)
        channel = str(params["channel"])
        ts = self._next_ts()
        message = {"type": "message", "user": self.bot_user_id, "bot_id": BOT_ID, "ts": ts, "text": params.get("text", ""), "blocks": blocks}
        self.messages[(channel, ts)] = message
        return {"channel": channel, "ts": ts, "message": message}

    def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        blocks = self._check_message(params)
        key = (str(params["channel"]), str(params.get("ts")))
        if key not in self.messages:
            raise _ApiError("message_not_found", f"no message {key}")
        message = self.messages[key]
        message.update({"text": params.get("text", ""), "blocks": blocks, "edited": True})
        return {"channel": key[0], "ts": key[1], "text": message["text"], "message": message}

    def _post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        self._check_message(params)
        if not params.get("user"):
            raise _ApiError("user_not_found", "no user")
        return {"message_ts": self._next_ts()}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users", "")).split(",")
        if not users or not users[0]:
            raise _ApiError("users_list_not_supplied", "no users")
        return {"channel": {"id": self.dm_channel(users[0])}}

    def _conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if channel not in self.members:
            raise _ApiError("channel_not_found", channel)
        return {"members": list(self.members[channel]), "response_metadata": {"next_cursor": ""}}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user", ""))
        if user not in self.users:
            raise _ApiError("user_not_found", user)
        return {"user": self.users[user]}

    def _get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("filename") or not params.get("length"):
            raise _ApiError("invalid_arguments", "filename and length required")
        file_id = f"F{next(self._files):06d}"
        self.uploads[file_id] = Upload(file_id, str(params["filename"]), int(params["length"]))
        return {"upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        out = []
        for item in files or []:
            upload = self.uploads.get(item["id"])
            if upload is None or upload.data is None:
                raise _ApiError("file_not_found", str(item.get("id")))
            if len(upload.data) != upload.length:
                raise _ApiError("file_upload_size_mismatch", upload.file_id)
            upload.title = item.get("title")
            upload.channel = params.get("channel_id")
            upload.completed = True
            out.append(self._file_object(upload))
        return {"files": out}

    def _file_object(self, upload: Upload) -> dict[str, Any]:
        return {
            "id": upload.file_id,
            "name": upload.filename,
            "title": upload.title or upload.filename,
            "size": upload.length,
            "channels": [upload.channel] if upload.channel else [],
        }

    def _files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        upload = self.uploads.get(str(params.get("file", "")))
        shared = self.user_file_objects.get(str(params.get("file", "")))
        if upload is None and shared is not None:
            return {"file": dict(shared)}
        if upload is None:
            raise _ApiError("file_not_found", str(params.get("file")))
        return {"file": self._file_object(upload)}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user_id") or "")
        if not user:
            raise _ApiError("invalid_arguments", "user_id required")
        if user not in self.users:
            raise _ApiError("user_not_found", user)
        view = params.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not isinstance(view, dict) or view.get("type") != "home":
            raise _ApiError("invalid_arguments", "a view of type home required")
        blocks = _blocks(view.get("blocks"))
        known = {u.file_id for u in self.uploads.values() if u.completed}
        problem = check_view_blocks(blocks, known)
        if problem:
            raise _ApiError("invalid_blocks", problem)
        view_id = f"V{user}"
        self.home_views[user] = {**view, "id": view_id, "blocks": blocks}
        return {"view": self.home_views[user]}

    def home_view(self, user_id: str) -> dict[str, Any]:
        """The Home view last published for the user (KeyError if none)."""
        return self.home_views[user_id]

    def completed_uploads(self, channel: str | None = None) -> list[Upload]:
        return [u for u in self.uploads.values() if u.completed and (channel is None or u.channel == channel)]


class _ApiError(Exception):
    def __init__(self, error: str, detail: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.detail = detail


# ---------------------------------------------------------------------- signing client


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Sent:
    status: int
    body: str
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class SlackSigner:
    """Posts correctly signed Slack requests to a Bolt app (`url` ends in /slack/events)."""

    def __init__(self, url: str, secret: str = SIGNING_SECRET, *, fake: FakeSlack | None = None, team_id: str = TEAM_ID) -> None:
        self.url = url
        self.secret = secret
        self.fake = fake
        self.team_id = team_id
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> "SlackSigner":
        self._session = aiohttp.ClientSession(trust_env=False)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def post(
        self,
        body: bytes,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> Sent:
        assert self._session is not None, "use `async with SlackSigner(...)`"
        ts = str(int(time.time()) if timestamp is None else timestamp)
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign(secret or self.secret, ts, body),
            **(headers or {}),
        }
        started = time.monotonic()
        async with self._session.post(self.url, data=body, headers=all_headers) as response:
            text = await response.text()
            return Sent(response.status, text, time.monotonic() - started)

    def next_id(self) -> int:
        return next(self._ids)

    async def command(
        self,
        user_id: str,
        text: str = "",
        *,
        command: str = "/journey",
        channel_id: str | None = None,
        team_id: str | None = None,
        response_url: str | None = None,
        **kw: Any,
    ) -> Sent:
        n = self.next_id()
        form = {
            "token": "legacy-verification-token",
            "team_id": team_id or self.team_id,
            "team_domain": "bakery",
            "channel_id": channel_id or f"D{user_id}",
            "channel_name": "directmessage",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0APP",
            "is_enterprise_install": "false",
            "response_url": response_url or (self.fake.response_url(f"cmd{n}") if self.fake else "http://127.0.0.1:9/respond"),
            "trigger_id": f"trigger.{n}",
        }
        return await self.post(urlencode(form).encode(), "application/x-www-form-urlencoded", **kw)

    def message_event(
        self,
        user_id: str,
        text: str,
        *,
        channel: str | None = None,
        team_id: str | None = None,
        event_id: str | None = None,
        subtype: str | None = None,
        bot_id: str | None = None,
        files: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        n = self.next_id()
        channel = channel or f"D{user_id}"
        event: dict[str, Any] = {
            "type": "message",
            "channel": channel,
            "channel_type": "im" if channel.startswith("D") else "channel",
            "user": user_id,
            "text": text,
            "ts": f"{1_800_000_000 + n}.000200",
            "event_ts": f"{1_800_000_000 + n}.000200",
        }
        if subtype:
            event["subtype"] = subtype
        if bot_id:
            event["bot_id"] = bot_id
        if files:
            event["subtype"] = "file_share"
            event["files"] = files
        team = team_id or self.team_id
        return {
            "token": "legacy-verification-token",
            "team_id": team,
            "api_app_id": "A0APP",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{n:08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team, "user_id": BOT_USER_ID, "is_bot": True}],
        }

    async def event(self, payload: dict[str, Any], *, retry_num: int | None = None, **kw: Any) -> Sent:
        headers = dict(kw.pop("headers", {}) or {})
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        body = json.dumps(payload).encode()
        return await self.post(body, "application/json", headers=headers, **kw)

    async def dm(self, user_id: str, text: str, **kw: Any) -> Sent:
        split = {k: kw.pop(k) for k in ("channel", "team_id", "event_id", "subtype", "bot_id", "files") if k in kw}
        return await self.event(self.message_event(user_id, text, **split), **kw)

    async def action(
        self,
        user_id: str,
        button: dict[str, Any],
        *,
        channel: str | None = None,
        message_ts: str = "",
        team_id: str | None = None,
        container_type: str = "message",
        action_ts: str | None = None,
        response_url: str | None = None,
        message_blocks: list[dict[str, Any]] | None = None,
        **kw: Any,
    ) -> Sent:
        """Tap `button` (a Block Kit button element as the bot sent it) on the message `message_ts`."""
        n = self.next_id()
        team = team_id or self.team_id
        channel = channel or f"D{user_id}"
        payload = {
            "type": "block_actions",
            "team": {"id": team, "domain": "bakery"},
            "user": {"id": user_id, "username": user_id.lower(), "team_id": team},
            "api_app_id": "A0APP",
            "token": "legacy-verification-token",
            "container": {"type": container_type, "message_ts": message_ts, "channel_id": channel, "is_ephemeral": container_type != "message"},
            "trigger_id": f"trigger.a{n}",
            "channel": {"id": channel, "name": "directmessage"},
            "message": {"ts": message_ts, "type": "message", "blocks": message_blocks or []} if container_type == "message" else None,
            "response_url": response_url or (self.fake.response_url(f"act{n}") if self.fake else "http://127.0.0.1:9/respond"),
            "actions": [
                {
                    "type": "button",
                    "action_id": button["action_id"],
                    "block_id": button.get("block_id", "b"),
                    "text": button.get("text", {"type": "plain_text", "text": ""}),
                    "value": button.get("value", ""),
                    "action_ts": action_ts or f"{1_900_000_000 + n}.000300",
                }
            ],
        }
        if payload["message"] is None:
            del payload["message"]
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post(body, "application/x-www-form-urlencoded", **kw)

    async def home_opened(self, user_id: str, *, tab: str = "home", team_id: str | None = None, event_id: str | None = None) -> Sent:
        """The user opened the app's Home tab (or, with tab="messages", its Messages tab)."""
        n = self.next_id()
        team = team_id or self.team_id
        event = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": f"D{user_id}",
            "tab": tab,
            "event_ts": f"{1_800_000_000 + n}.000500",
        }
        if self.fake is not None and tab == "home" and user_id in self.fake.home_views:
            event["view"] = self.fake.home_views[user_id]
        payload = {
            "token": "legacy-verification-token",
            "team_id": team,
            "api_app_id": "A0APP",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{n:08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team, "user_id": BOT_USER_ID, "is_bot": True}],
        }
        return await self.event(payload)

    async def home_action(self, user_id: str, button: dict[str, Any], *, team_id: str | None = None, **kw: Any) -> Sent:
        """Tap `button` (an element of the user's published Home view) as Slack sends it: the
        container is the view, and there is neither a channel nor a message nor a response_url."""
        n = self.next_id()
        team = team_id or self.team_id
        view = (self.fake.home_views.get(user_id) if self.fake is not None else None) or {"id": f"V{user_id}", "type": "home", "blocks": []}
        block_id = next(
            (b.get("block_id", "b") for b in view.get("blocks", []) if button in (b.get("elements") or [])),
            "b",
        )
        payload = {
            "type": "block_actions",
            "team": {"id": team, "domain": "bakery"},
            "user": {"id": user_id, "username": user_id.lower(), "team_id": team},
            "api_app_id": "A0APP",
            "token": "legacy-verification-token",
            "container": {"type": "view", "view_id": view.get("id", f"V{user_id}")},
            "trigger_id": f"trigger.h{n}",
            "view": {**view, "app_id": "A0APP", "team_id": team},
            "actions": [
                {
                    "type": "button",
                    "action_id": button["action_id"],
                    "block_id": block_id,
                    "text": button.get("text", {"type": "plain_text", "text": ""}),
                    "value": button.get("value", ""),
                    "action_ts": f"{1_900_000_000 + n}.000600",
                }
            ],
        }
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post(body, "application/x-www-form-urlencoded", **kw)
