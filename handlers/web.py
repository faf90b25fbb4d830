"""The survey page over HTTP (aiohttp): `GET /s/{token}` shows the form, `POST /s/{token}` takes it.

    routes = survey_routes(journeys)          # mounted by `journeybot web`, the Telegram webhook
    app.add_routes(routes)                    # server and Slack's HTTP server

Every answer sets the security headers below (a strict Content-Security-Policy: the page has no
script and makes no request of its own). A POST is checked in this order: the client address's rate
limit (429), the link (404 unknown, 410 closed), the link's rate limit (429), the body's size (413
over MAX_BODY, from the declared length before reading, then while reading), the form (400, shown
again with what the customer chose), and only then stored, once per submission key. Nothing is
stored on any refusal. The rate limits are in memory, per process.

The client address is the socket's peer; with JOURNEYBOT_TRUST_PROXY=1 (journeybot behind a reverse
proxy) it is the last address in X-Forwarded-For, the one the proxy itself added.
"""
from __future__ import annotations

import asyncio
import logging
import math
import os
import time
from collections import deque
from typing import Callable, Mapping
from urllib.parse import parse_qsl

from aiohttp import web

from app import Journeys, StoreUnavailable
from app import survey_page as pages
from bot import survey_page as html
from handlers.kit.intake import FileTooLarge, read_limited
from handlers.kit.health import HealthServer, health_routes
from handlers.kit.signals import shutdown_timeout as shutdown_timeout_from_env
from handlers.kit.signals import stop_on_signals

log = logging.getLogger(__name__)

PATH = "/s/{token}"
MAX_BODY = 16 * 1024  # bytes of one form; a full form with a 1,000-character comment is about 4 KB
PER_LINK = 30  # submissions per link per WINDOW
PER_ADDRESS = 10  # submissions per client address per WINDOW
WINDOW = 60.0  # seconds
DEFAULT_LISTEN = "127.0.0.1"
DEFAULT_PORT = 8080
SHUTDOWN_TIMEOUT = 5.0
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class RateLimit:
    """At most `limit` hits per key in any `window` seconds (a sliding log per key); `limit` None or
    0 lifts it. Keys with no hit in the last window are dropped, so memory follows recent traffic."""

    def __init__(self, limit: int | None, window: float = WINDOW, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit or 0
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._swept = clock()

    def hit(self, key: str) -> float:
        """0 when this hit is allowed (and counted), else the seconds until one would be."""
        if self.limit <= 0:
            return 0.0
        now = self.clock()
        if now - self._swept > self.window:
            self._sweep(now)
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(hits[0] + self.window - now, 0.001)
        hits.append(now)
        return 0.0

    def _sweep(self, now: float) -> None:
        self._swept = now
        for key in [k for k, hits in self._hits.items() if not hits or now - hits[-1] >= self.window]:
            del self._hits[key]


def trust_proxy_from_env(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return (env.get("JOURNEYBOT_TRUST_PROXY") or "").strip().lower() in ("1", "true", "yes", "on")


class SurveyPages:
    """The two routes of the survey page for one application layer."""

    def __init__(
        self,
        journeys: Journeys,
        *,
        per_link: int | None = PER_LINK,
        per_address: int | None = PER_ADDRESS,
        window: float = WINDOW,
        max_body: int = MAX_BODY,
        trust_proxy: bool | None = None,
    ) -> None:
        self.journeys = journeys
        self.per_link = RateLimit(per_link, window)
        self.per_address = RateLimit(per_address, window)
        self.max_body = max_body
        self.trust_proxy = trust_proxy_from_env() if trust_proxy is None else trust_proxy

    # -- requests ------------------------------------------------------------------------
    async def get(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        accept = request.headers.get("Accept-Language")
        try:
            page = await asyncio.to_thread(pages.load_page, self.journeys, token, accept)
        except StoreUnavailable as exc:
            return self._unavailable(accept, exc)
        if page is None:
            return _page(html.render_not_found(html.page_language(accept, None)), 404)
        if page.closed:
            return _page(html.render_closed(page.lang, page.business), 410)
        return _page(html.render_form(page.lang, page.business, page.questions, pages.new_submission_key()))

    async def post(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        accept = request.headers.get("Accept-Language")
        wait = self.per_address.hit(self.client_address(request))
        if wait:
            return self._too_many(html.page_language(accept, None), "", wait)
        try:
            page = await asyncio.to_thread(pages.load_page, self.journeys, token, accept)
        except StoreUnavailable as exc:
            return self._unavailable(accept, exc)
        if page is None:
            return _page(html.render_not_found(html.page_language(accept, None)), 404, close=True)
        if page.closed:
            return _page(html.render_closed(page.lang, page.business), 410, close=True)
        wait = self.per_link.hit(token)
        if wait:
            return self._too_many(page.lang, page.business, wait)
        if request.content_length is not None and request.content_length > self.max_body:
            return _page(html.render_refused(page.lang, page.business, "too_large"), 413, close=True)
        try:
            body = await read_limited(request.content.iter_chunked(4096), self.max_body)
        except FileTooLarge:
            return _page(html.render_refused(page.lang, page.business, "too_large"), 413, close=True)
        fields = _form_fields(request.content_type, body)
        try:
            if fields is None:
                raise pages.Invalid("bad_form")
            submission = pages.read_submission(page, fields)
        except pages.Invalid as bad:
            again = html.render_form(
                page.lang, page.business, page.questions, pages.new_submission_key(), error=bad.reason, chosen=bad.chosen, comment=bad.comment
            )
            return _page(again, 400)
        try:
            outcome = await asyncio.to_thread(pages.submit, self.journeys, page, submission)
        except StoreUnavailable as exc:
            return self._unavailable(accept, exc, page)
        if outcome == "closed":
            return _page(html.render_closed(page.lang, page.business), 410)
        if outcome == "duplicate":
            log.info("a survey submission sent again; stored once")
        return _page(html.render_thanks(page.lang, page.business))

    # -- helpers -----------------------------------------------------------------------
    def client_address(self, request: web.Request) -> str:
        if self.trust_proxy:
            forwarded = [part.strip() for part in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",") if part.strip()]
            if forwarded:
                return forwarded[-1]
        peer = request.transport.get_extra_info("peername") if request.transport is not None else None
        if isinstance(peer, (tuple, list)) and peer:
            return str(peer[0])
        return str(peer or "?")

    def _too_many(self, lang: str, business: str, wait: float) -> web.Response:
        response = _page(html.render_refused(lang, business, "too_many"), 429, close=True)
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response

    def _unavailable(self, accept: str | None, exc: Exception, page: pages.SurveyPage | None = None) -> web.Response:
        log.warning("survey page: store unavailable: %s", exc)
        lang = page.lang if page is not None else html.page_language(accept, None)
        response = _page(html.render_refused(lang, page.business if page else "", "unavailable"), 503)
        response.headers["Retry-After"] = "60"
        return response


def survey_routes(
    journeys: Journeys,
    *,
    per_link: int | None = PER_LINK,
    per_address: int | None = PER_ADDRESS,
    window: float = WINDOW,
    max_body: int = MAX_BODY,
    trust_proxy: bool | None = None,
) -> list[web.RouteDef]:
    """`GET` and `POST /s/{token}`, to add to any aiohttp application. `per_link` / `per_address`
    None lift the rate limits (benchmarks); `trust_proxy` None reads JOURNEYBOT_TRUST_PROXY."""
    handler = SurveyPages(journeys, per_link=per_link, per_address=per_address, window=window, max_body=max_body, trust_proxy=trust_proxy)
    return [web.get(PATH, handler.get), web.post(PATH, handler.post)]


def _form_fields(content_type: str, body: bytes) -> list[tuple[str, str]] | None:
    """The fields of a urlencoded form, or None for a body that is not one."""
    if content_type != "application/x-www-form-urlencoded":
        return None
    try:
        text = body.decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, max_num_fields=pages.MAX_FIELDS, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return None


def _page(text: str, status: int = 200, *, close: bool = False) -> web.Response:
    response = web.Response(text=text, status=status, content_type="text/html", charset="utf-8", headers=HEADERS)
    if close:
        response.force_close()  # a refused client's unread body is dropped, not read
    return response


# ---------------------------------------------------------------------------- journeybot web
def web_application(journeys: Journeys, **options: object) -> web.Application:
    """The survey pages, and /healthz, /readyz and /metrics (handlers/kit/health.py)."""
    app = web.Application(client_max_size=MAX_BODY)
    app.add_routes(survey_routes(journeys, **options))  # type: ignore[arg-type]
    app.add_routes(health_routes(journeys))
    return app


async def serve(
    journeys: Journeys,
    listen: str = DEFAULT_LISTEN,
    port: int = DEFAULT_PORT,
    *,
    started: Callable[[int], None] | None = None,
    shutdown_timeout: float | None = None,
    **options: object,
) -> None:
    """Serve the survey pages on `listen:port` until SIGTERM or SIGINT; then take no new connection,
    finish the requests in flight (up to `shutdown_timeout`, by default JOURNEYBOT_SHUTDOWN_TIMEOUT,
    20 s) and return. A port that cannot be taken raises OSError. `started` is called with the port
    once listening (port 0 picks a free one); `options` go to `survey_routes` (the benchmark lifts
    the rate limits). With JOURNEYBOT_HEALTH_PORT the health routes also get a listener of their own,
    as in the channel servers (one health check for every container)."""
    timeout = shutdown_timeout_from_env() if shutdown_timeout is None else shutdown_timeout
    runner = web.AppRunner(web_application(journeys, **options), access_log=None, handle_signals=False, shutdown_timeout=timeout)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: tuple = ()
    health = HealthServer.from_env(journeys)
    try:
        site = web.TCPSite(runner, listen, port)
        await site.start()
        if health is not None:
            await health.start()
        server = site._server  # the bound port, when 0 was asked for
        sockets = getattr(server, "sockets", None) if server is not None else None
        bound = sockets[0].getsockname()[1] if sockets else port
        handled = stop_on_signals(loop, stop.set)
        log.info("survey pages on %s:%s", listen, bound)
        if started is not None:
            started(int(bound))
        await stop.wait()
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
        if health is not None:
            health.stopping()
        await runner.cleanup()
        if health is not None:
            await health.stop()
