"""The fake OpenAI server's POST /v1/audio/transcriptions (served by `FakeOpenAI`, see openai_api.py).

The real `openai` client sends a multipart form: `file` (the audio), `model`, `language` and
optionally `response_format`. Scripted like the chat route: each request takes the next reply
from `fake.transcriptions.queue`; an empty queue uses `default`, else answers 400 "unscripted"
(counted in `unscripted`).

    fake.transcriptions.push(Transcript.of("We bake bread every morning"))
    fake.transcriptions.push(Transcript.of(""))                # silence: no words
    fake.transcriptions.push(Transcript.server_error())        # 500
    fake.transcriptions.push(Transcript.of("late", delay=5))   # slower than the client's timeout

Every request is recorded in `fake.transcriptions.requests` (`Transcribed`: model, language,
file name, type and size, the bytes, headers); the audio itself is never interpreted.
"""
from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from aiohttp import web


@dataclass
class Transcript:
    """One scripted answer: `text` for a 200, or an HTTP error (`status`, `message`)."""

    text: str | None = None
    status: int = 200
    message: str = ""
    delay: float = 0.0

    @classmethod
    def of(cls, text: str, **kw: Any) -> "Transcript":
        return cls(text=text, **kw)

    @classmethod
    def server_error(cls, status: int = 500, **kw: Any) -> "Transcript":
        return cls(status=status, message="The server had an error", **kw)

    @classmethod
    def refused(cls, status: int = 400, message: str = "Invalid file format.", **kw: Any) -> "Transcript":
        return cls(status=status, message=message, **kw)


@dataclass
class Transcribed:
    """One transcription request the client made."""

    model: str | None
    language: str | None
    response_format: str | None
    filename: str | None
    content_type: str | None
    data: bytes
    headers: dict[str, str]
    reply: Transcript | None = None

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class Transcriptions:
    """The route's script and record."""

    queue: deque[Transcript] = field(default_factory=deque)
    default: Transcript | None = None
    requests: list[Transcribed] = field(default_factory=list)
    unscripted: int = 0
    closing: asyncio.Event | None = None

    def push(self, *replies: Transcript) -> "Transcriptions":
        self.queue.extend(replies)
        return self

    @property
    def calls(self) -> int:
        return len(self.requests)

    def handler(self, api_key: Callable[[], str | None]) -> Callable[[web.Request], Awaitable[web.Response]]:
        """The route's handler; `api_key()` is the key the server expects now (None: any)."""

        async def handle(request: web.Request) -> web.Response:
            return await self.handle(request, api_key())

        return handle

    async def handle(self, request: web.Request, api_key: str | None) -> web.Response:
        form = await request.post()
        upload = form.get("file")
        data = upload.file.read() if isinstance(upload, web.FileField) else b""
        record = Transcribed(
            model=_text(form.get("model")),
            language=_text(form.get("language")),
            response_format=_text(form.get("response_format")),
            filename=upload.filename if isinstance(upload, web.FileField) else None,
            content_type=upload.content_type if isinstance(upload, web.FileField) else None,
            data=data,
            headers={k.lower(): v for k, v in request.headers.items()},
        )
        self.requests.append(record)
        if api_key is not None and request.headers.get("Authorization") != f"Bearer {api_key}":
            return _error(401, "Incorrect API key provided", "invalid_api_key")
        if not isinstance(upload, web.FileField) or not record.model:
            return _error(400, "The request needs 'file' and 'model'", None)
        reply = self._next()
        record.reply = reply
        if reply is None:
            self.unscripted += 1
            return _error(400, "fake OpenAI server: no scripted transcription left for this request", "unscripted")
        if reply.delay:
            try:
                await asyncio.wait_for((self.closing or asyncio.Event()).wait(), timeout=reply.delay)
                return web.Response(status=503)
            except asyncio.TimeoutError:
                pass
        if reply.status != 200:
            return _error(reply.status, reply.message, None)
        if record.response_format == "text":
            return web.Response(text=reply.text or "", content_type="text/plain")
        return web.json_response({"text": reply.text or "", "usage": {"type": "duration", "seconds": 1}})

    def _next(self) -> Transcript | None:
        if self.queue:
            return self.queue.popleft()
        return self.default


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _error(status: int, message: str, code: str | None) -> web.Response:
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return web.json_response({"error": {"message": message, "type": kind, "param": None, "code": code}}, status=status)
