"""Health, readiness and metrics over HTTP, for every long-running command.

    GET /healthz   200 "ok" while the process runs (liveness)
    GET /readyz    200 {"status": "ready"} when the database answers a trivial query and its schema
                   is at this release's migrations; 503 {"status": "unavailable", "reason": ...}
                   otherwise, and {"status": "stopping"} once the process is shutting down. Never a
                   traceback, never a URL or a secret.
    GET /metrics   Prometheus' text format (app/metrics.py lists the names)

`health_routes(journeys)` mounts them on a server that exists anyway (the Telegram webhook server,
Slack's HTTP server, `journeybot web`); `HealthServer` is a small listener of its own for long polling
and Socket Mode, which have none, started when JOURNEYBOT_HEALTH_PORT is set (on
JOURNEYBOT_HEALTH_LISTEN, default 127.0.0.1).
"""
from __future__ import annotations

import asyncio
import logging
import os
from typing import Mapping

from aiohttp import web

from app import Journeys
from app.metrics import CONTENT_TYPE, Readiness, readiness

log = logging.getLogger(__name__)

READY_TIMEOUT = 5.0  # seconds a readiness check may take before the answer is "no answer"
METRICS_TIMEOUT = 10.0
DEFAULT_LISTEN = "127.0.0.1"
NO_STORE = {"Cache-Control": "no-store"}


class Health:
    """The three routes for one application layer. `stopping` turns /readyz to 503 (a load balancer
    stops sending work) while the process finishes what it has."""

    def __init__(self, journeys: Journeys) -> None:
        self.journeys = journeys
        self.stopping = False
        self._check: asyncio.Future[Readiness] | None = None
        self.counts = journeys.metrics  # counting starts now, with the server that shows the counts

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok", headers=NO_STORE)

    async def readyz(self, request: web.Request) -> web.Response:
        if self.stopping:
            return _json({"status": "stopping"}, 503)
        try:
            state = await asyncio.wait_for(asyncio.shield(self._readiness()), READY_TIMEOUT)
        except TimeoutError:
            state = Readiness(False, f"database: no answer within {READY_TIMEOUT:g} s")
        except Exception as exc:  # never a traceback to the prober
            log.warning("readiness check failed: %s", type(exc).__name__)
            state = Readiness(False, f"check failed ({type(exc).__name__})")
        if not state.ready:
            log.info("not ready: %s", state.reason)
            return _json({"status": "unavailable", "reason": state.reason}, 503)
        return _json({"status": "ready", "schema": list(state.schema)}, 200)

    def _readiness(self) -> asyncio.Future[Readiness]:
        """One check at a time: probes that come while the database is slow wait for the same answer
        instead of filling the thread pool the turns need."""
        if self._check is None or self._check.done():
            self._check = asyncio.ensure_future(asyncio.to_thread(readiness, self.journeys))
        return self._check

    async def metrics(self, request: web.Request) -> web.Response:
        try:
            body = await asyncio.wait_for(asyncio.to_thread(self.counts.exposition), METRICS_TIMEOUT)
        except TimeoutError:
            return web.Response(status=503, text="metrics: no answer in time\n", headers=NO_STORE)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE, **NO_STORE})

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/healthz", self.healthz), web.get("/readyz", self.readyz), web.get("/metrics", self.metrics)]


def health_routes(journeys: Journeys, health: Health | None = None) -> list[web.RouteDef]:
    """GET /healthz, /readyz and /metrics, to add to any aiohttp application."""
    return (health or Health(journeys)).routes()


def _json(data: dict[str, object], status: int) -> web.Response:
    return web.json_response(data, status=status, headers=NO_STORE)


# ---------------------------------------------------------------------------- a listener of its own
def health_port(env: Mapping[str, str] | None = None) -> tuple[str, int] | None:
    """(listen, port) from JOURNEYBOT_HEALTH_LISTEN / JOURNEYBOT_HEALTH_PORT, None without a port.
    ValueError when the port is not a number from 0 to 65535 (0 picks a free one)."""
    env = os.environ if env is None else env
    raw = (env.get("JOURNEYBOT_HEALTH_PORT") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > 65535:
        raise ValueError(raw)
    return (env.get("JOURNEYBOT_HEALTH_LISTEN") or "").strip() or DEFAULT_LISTEN, int(raw)


class HealthPortError(RuntimeError):
    """The health listener cannot listen where JOURNEYBOT_HEALTH_LISTEN / JOURNEYBOT_HEALTH_PORT say."""


class HealthServer:
    """/healthz, /readyz and /metrics on `listen:port`, nothing else."""

    def __init__(self, journeys: Journeys, listen: str = DEFAULT_LISTEN, port: int = 0) -> None:
        self.health = Health(journeys)
        self.listen = listen
        self.port = port
        self._runner: web.AppRunner | None = None

    @classmethod
    def from_env(cls, journeys: Journeys, env: Mapping[str, str] | None = None) -> "HealthServer | None":
        where = health_port(env)
        return None if where is None else cls(journeys, *where)

    async def start(self) -> int:
        """Listen; the bound port (when 0 was asked for, a free one). HealthPortError when it cannot
        (the port is taken, the address is not this machine's)."""
        app = web.Application()
        app.add_routes(self.health.routes())
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.listen, self.port)
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise HealthPortError(f"JOURNEYBOT_HEALTH_PORT: cannot listen on {self.listen}:{self.port} ({exc.strerror or exc})") from None
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        server = site._server
        sockets = getattr(server, "sockets", None) if server is not None else None
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("health and metrics on %s:%s", self.listen, self.port)
        return self.port

    def stopping(self) -> None:
        self.health.stopping = True

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
