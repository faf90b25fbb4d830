"""A fake OpenAI-compatible server for tests: POST /v1/chat/completions on loopback.

`FakeOpenAI` is an aiohttp server on 127.0.0.1 (random port). Point the REAL `openai`
client at it with `base_url=fake.base_url` (`http://127.0.0.1:PORT/v1`, also what
`OPENAI_BASE_URL` takes), so retries, timeouts, status codes and parsing all go through
the client's own code.

Scripting: every request takes the next reply from a queue; when the queue is empty the
`default` reply is used (if set), otherwise the fake answers 400 "unscripted" and counts it
in `fake.unscripted`, so a test that makes more calls than it planned fails loudly.

    fake.push(Reply.json_content({...}))        # a good answer: the JSON the model "wrote"
    fake.push(Reply.rate_limited(retry_after=1))  # 429 with a Retry-After header
    fake.push(Reply.server_error())              # 500
    fake.push(Reply.json_content({...}, delay=5))  # slower than the client's timeout
    fake.push(Reply.text_content("Sure! ..."))   # a model reply that is not JSON
    fake.push(Reply.json_content({"bad": 1}))    # JSON that breaks the schema
    fake.push(Reply.raw("<html>", status=200, content_type="text/html"))  # a body that is not JSON
    fake.push(Reply.api_error(400, "response_format json_schema is not supported"))

`fake.reject_json_schema = True` makes every request with a json_schema response format
answer 400 (like an older OpenAI-compatible server) before the queue is consulted.
`fake.responder = fn(body) -> Reply | None` computes replies from the request (used by the
benchmark); it is consulted after the queue, before `default`.

Every request is recorded in `fake.requests` (`Recorded`: parsed JSON body, headers, the
reply it got); `fake.calls` is their number. Completions carry `usage` with token counts
estimated from the text (about 4 characters per token), so token accounting can be tested.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

API_KEY = "sk-test-fake-key"


def estimate_tokens(text: str) -> int:
    """A rough token count: about four characters per token, at least one for non-empty text."""
    return (len(text) + 3) // 4 if text else 0


@dataclass
class Reply:
    """One scripted answer. `content` is the assistant message text of a 200 completion;
    `status`/`error`/`raw_body` make it an HTTP error or a broken body instead."""

    status: int = 200
    content: str | None = None
    finish_reason: str = "stop"
    refusal: str | None = None
    error: dict[str, Any] | None = None
    raw_body: str | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    usage: dict[str, int] | None = None
    chunk_delay: float = 0.0  # streamed: seconds between pieces, like a model writing token by token
    send_usage: bool = True  # streamed: a last chunk with usage when the client asks for it (llama.cpp sends none)

    @classmethod
    def json_content(cls, data: Any, **kw: Any) -> "Reply":
        if hasattr(data, "model_dump"):
            data = data.model_dump(mode="json")
        return cls(content=json.dumps(data, ensure_ascii=False), **kw)

    @classmethod
    def text_content(cls, text: str, **kw: Any) -> "Reply":
        return cls(content=text, **kw)

    @classmethod
    def rate_limited(cls, retry_after: float | str | None = 1, **kw: Any) -> "Reply":
        headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
        headers.update(kw.pop("headers", {}))
        return cls(
            status=429,
            error={"message": "Rate limit reached for requests", "type": "requests", "code": "rate_limit_exceeded"},
            headers=headers,
            **kw,
        )

    @classmethod
    def server_error(cls, status: int = 500, **kw: Any) -> "Reply":
        return cls(status=status, error={"message": "The server had an error", "type": "server_error", "code": None}, **kw)

    @classmethod
    def api_error(cls, status: int, message: str, type: str = "invalid_request_error", code: str | None = None, **kw: Any) -> "Reply":
        return cls(status=status, error={"message": message, "type": type, "code": code}, **kw)

    @classmethod
    def raw(cls, body: str, status: int = 200, content_type: str = "text/plain", **kw: Any) -> "Reply":
        return cls(status=status, raw_body=body, content_type=content_type, **kw)


@dataclass
class Recorded:
    """One request the client made."""

    path: str
    body: Any
    headers: dict[str, str]
    reply: Reply | None = None
    at: float = field(default_factory=time.monotonic)
    abandoned: bool = False  # streamed: the client closed the connection before the reply was complete
    pieces_sent: int = 0

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", [])) if isinstance(self.body, dict) else []

    def message(self, role: str) -> str:
        """The text of the first message with this role ('' if none)."""
        for m in self.messages:
            if m.get("role") == role:
                content = m.get("content")
                if isinstance(content, list):
                    return "".join(part.get("text", "") for part in content if isinstance(part, dict))
                return str(content or "")
        return ""

    @property
    def response_format(self) -> dict[str, Any] | None:
        return self.body.get("response_format") if isinstance(self.body, dict) else None

    @property
    def response_format_type(self) -> str | None:
        rf = self.response_format
        return rf.get("type") if isinstance(rf, dict) else None


class FakeOpenAI:
    """See the module docstring."""

    def __init__(self, host: str = "127.0.0.1", api_key: str | None = API_KEY, model: str = "gpt-fake") -> None:
        self.host = host
        self.port: int = 0
        self.api_key = api_key  # None: accept any key
        self.model = model
        self.queue: deque[Reply] = deque()
        self.default: Reply | None = None
        self.responder: Callable[[Any], Reply | None] | None = None
        self.reject_json_schema = False
        self.refused_formats: set[str] = set()  # "json_schema", "json_object_schema", "json_object": answered with `refusal_status`
        self.refusal_status = 400
        self.requests: list[Recorded] = []
        self.unscripted = 0
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()

    # -- scripting ---------------------------------------------------------------

    def push(self, *replies: Reply) -> "FakeOpenAI":
        self.queue.extend(replies)
        return self

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def calls(self) -> int:
        return len(self.requests)

    @property
    def completions(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    # -- server ------------------------------------------------------------------

    async def start(self) -> "FakeOpenAI":
        self._closing = asyncio.Event()
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_route("*", "/v1/{tail:.*}", self._not_found)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        self._closing.set()  # wakes up replies that are still sleeping
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "FakeOpenAI":
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    # -- handlers ----------------------------------------------------------------

    async def _not_found(self, request: web.Request) -> web.Response:
        return _error_response(Reply.api_error(404, f"Unknown endpoint {request.path}", code="unknown_url"))

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        raw = await request.text()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw
        record = Recorded(path=request.path, body=body, headers={k.lower(): v for k, v in request.headers.items()})
        self.requests.append(record)

        reply = self._next_reply(request, body)
        record.reply = reply
        if reply.delay:
            try:
                await asyncio.wait_for(self._closing.wait(), timeout=reply.delay)
            except TimeoutError:
                pass
            if self._closing.is_set():
                return web.Response(status=503)
        if reply.raw_body is not None:
            return web.Response(status=reply.status, text=reply.raw_body, content_type=reply.content_type, headers=reply.headers)
        if reply.status != 200 or reply.error is not None:
            return _error_response(reply)
        if body.get("stream"):
            return await self._stream(request, body, reply, record)
        return web.json_response(self._completion(body, reply), headers=reply.headers)

    async def _stream(self, request: web.Request, body: dict[str, Any], reply: Reply, record: Recorded) -> web.StreamResponse:
        """The completion as server-sent events: the content in pieces, then usage (when asked for), then [DONE]."""
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", **reply.headers})
        await response.prepare(request)
        completion = self._completion(body, reply)
        base = {k: completion[k] for k in ("id", "created", "model", "system_fingerprint")} | {"object": "chat.completion.chunk"}
        message = completion["choices"][0]["message"]
        content = message["content"] or ""
        size = max(16, len(content) // 200)  # at most about 200 pieces
        pieces = [content[i : i + size] for i in range(0, len(content), size)] or [""]
        events: list[dict[str, Any]] = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}]
        if message.get("refusal"):
            events.append({**base, "choices": [{"index": 0, "delta": {"refusal": message["refusal"]}, "finish_reason": None}]})
        events += [{**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]} for piece in pieces if piece]
        events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": completion["choices"][0]["finish_reason"]}]})
        if reply.send_usage and (body.get("stream_options") or {}).get("include_usage"):
            events.append({**base, "choices": [], "usage": completion["usage"]})
        try:
            for event in events:
                if request.transport is None or request.transport.is_closing():
                    record.abandoned = True
                    return response
                await response.write(f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode())
                record.pieces_sent += 1
                if reply.chunk_delay:
                    await asyncio.sleep(reply.chunk_delay)
            await response.write(b"data: [DONE]\n\n")
        except (ConnectionError, RuntimeError):
            record.abandoned = True
        return response

    def _next_reply(self, request: web.Request, body: Any) -> Reply:
        if self.api_key is not None and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return Reply.api_error(401, "Incorrect API key provided", code="invalid_api_key")
        if not isinstance(body, dict) or "messages" not in body or "model" not in body:
            return Reply.api_error(400, "Request body must be JSON with 'model' and 'messages'")
        rf = body.get("response_format")
        if self.reject_json_schema and isinstance(rf, dict) and rf.get("type") == "json_schema":
            return Reply.api_error(
                400, "response_format of type 'json_schema' is not supported by this server", code="unsupported_response_format"
            )
        kind = rf.get("type") if isinstance(rf, dict) else None
        if kind == "json_object" and "schema" in rf:
            kind = "json_object_schema"
        if kind in self.refused_formats:
            if self.refusal_status == 500:  # llama-cpp-python: its request model has no json_schema type
                return Reply.api_error(
                    500,
                    "1 validation error for CreateChatCompletionRequest\nresponse_format.type\n  Input should be 'text' or 'json_object'",
                    type="internal_server_error",
                )
            return Reply.api_error(self.refusal_status, f"response_format {kind} is not supported", code="unsupported_response_format")
        if self.queue:
            return self.queue.popleft()
        if self.responder is not None:
            reply = self.responder(body)
            if reply is not None:
                return reply
        if self.default is not None:
            return self.default
        self.unscripted += 1
        return Reply.api_error(400, "fake OpenAI server: no scripted reply left for this request", code="unscripted")

    def _completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        prompt_text = "".join(_message_text(m) for m in body.get("messages", []))
        content = reply.content if reply.content is not None else ""
        usage = reply.usage or {
            "prompt_tokens": estimate_tokens(prompt_text),
            "completion_tokens": estimate_tokens(content),
        }
        usage = {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}
        return {
            "id": f"chatcmpl-fake{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", self.model),
            "system_fingerprint": "fp_fake",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": None if reply.refusal else content, "refusal": reply.refusal},
                    "logprobs": None,
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": usage,
        }


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


def _error_response(reply: Reply) -> web.Response:
    error = reply.error or {"message": "error", "type": "server_error", "code": None}
    return web.json_response({"error": {**error, "param": None}}, status=reply.status, headers=reply.headers)
