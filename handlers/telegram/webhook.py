"""The Telegram webhook server: the secret before the body, and a body of bounded size.

python-telegram-bot's own webhook server (tornado) reads a whole request body, up to 100 MB, before
it looks at the secret header. This small aiohttp server answers from the headers alone where it
can: 403 to a missing or wrong `X-Telegram-Bot-Api-Secret-Token` and 413 to a declared length over
MAX_BODY, without reading the body; it then reads at most MAX_BODY bytes (413 beyond), 400 to what
is not a JSON update. Telegram's updates are a few kilobytes.

Unlike PTB's server, it answers 200 only once the update was handled (through the application's
update processor, so per-owner ordering and the concurrency limit hold), or after ACK_WITHIN
seconds, by which time its turn was committed long ago and only a summary may still be written.
Telegram sends a chat's next update only after the previous one was answered; several workers
behind a load balancer therefore apply one owner's messages in the order they were sent.

On shutdown (`stop`) the port closes and a request still arriving on an open connection gets 503:
Telegram delivers it again later, to the next process. The updates already taken are finished; one
cancelled because the time ran out is answered 503 too, so Telegram delivers it again (an update
whose turn was committed is then recognised and shows what its owner has not seen yet).
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import weakref
from typing import Sequence

from aiohttp import web
from telegram import Update
from telegram.ext import Application, ExtBot

from handlers.kit.intake import FileTooLarge, read_limited

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1_000_000  # bytes of one request
LINGER = 1.0  # seconds a refused request's body is still drained (and dropped), so the client reads the answer
SHUTDOWN_TIMEOUT = 5.0

_servers: "weakref.WeakKeyDictionary[Application, WebhookServer]" = weakref.WeakKeyDictionary()


ACK_WITHIN = 10.0  # seconds: the longest a webhook request waits for its update to be handled

class WebhookServer:
    """Serves `path` on `listen:port` for one Application; `start` also registers the webhook with Telegram."""

    def __init__(
        self,
        application: Application,
        *,
        listen: str,
        port: int,
        path: str,
        secret: str,
        max_body: int = MAX_BODY,
        routes: Sequence[web.RouteDef] = (),
    ) -> None:
        if not secret:
            raise ValueError("a webhook needs a secret token")
        self.application = application
        self.listen = listen
        self.port = port
        self.path = "/" + path.strip("/")
        self.secret = secret.encode("utf-8")
        self.max_body = max_body
        self.routes = list(routes)  # served next to the webhook: the survey page (handlers/web.py)
        self._in_flight: set[asyncio.Future[None]] = set()
        self._runner: web.AppRunner | None = None
        self._closing = False

    # -- requests -----------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, self.secret):
            return _refused(403, "a missing or wrong secret")
        if self._closing:
            return _refused(503, "shutting down: Telegram sends it again")
        if request.content_length is not None and request.content_length > self.max_body:
            return _refused(413, "a declared body over the limit")
        if request.content_type != "application/json":
            return _refused(415, "a body that is not JSON")
        try:
            body = await read_limited(request.content.iter_chunked(64 * 1024), self.max_body)
        except FileTooLarge:
            return _refused(413, "a body over the limit")
        bot = self.application.bot
        try:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            update = Update.de_json(data, bot)
        except Exception as exc:  # noqa: BLE001 - whatever is wrong with it, it is not an update
            return _refused(400, f"a body that is no update ({type(exc).__name__})")
        if isinstance(bot, ExtBot):
            bot.insert_callback_data(update)  # arbitrary callback data, as PTB's server does
        work = asyncio.ensure_future(self.application.update_processor.process_update(update, self.application.process_update(update)))
        self._in_flight.add(work)
        work.add_done_callback(self._in_flight.discard)
        await asyncio.wait({work}, timeout=ACK_WITHIN)  # answered only after the turn: the chat's order holds
        if work.cancelled():  # stopped at shutdown: Telegram delivers it again
            return _refused(503, "an update stopped at shutdown: Telegram sends it again")
        return web.Response(status=200)

    # -- life cycle -------------------------------------------------------------------------
    async def start(self, *, webhook_url: str, allowed_updates: Sequence[str] | None, drop_pending_updates: bool = False) -> None:
        """Listen first, then tell Telegram where to post (it may post at once)."""
        app = web.Application(client_max_size=self.max_body)
        app.router.add_post(self.path, self.handle)
        if self.path != "/":
            app.router.add_post(self.path + "/", self.handle)
        app.add_routes(self.routes)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, lingering_time=LINGER, shutdown_timeout=SHUTDOWN_TIMEOUT)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.listen, self.port).start()
            await self.application.bot.set_webhook(
                url=webhook_url,
                allowed_updates=allowed_updates,
                drop_pending_updates=drop_pending_updates,
                secret_token=self.secret.decode("utf-8"),
            )
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        _servers[self.application] = self
        log.info("Telegram webhook listening on %s:%s%s", self.listen, self.port, self.path)

    async def stop(self, timeout: float | None = ACK_WITHIN) -> None:
        """Take no new update (the port closes; a request on a connection still open gets 503), finish
        those already taken for at most `timeout` seconds (None: however long), cancel the rest
        (answered 503, so Telegram delivers them again), then close."""
        self._closing = True
        runner, self._runner = self._runner, None
        _servers.pop(self.application, None)
        if runner is not None:
            for site in list(runner.sites):
                await site.stop()
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=timeout)
        left = [work for work in self._in_flight if not work.done()]
        if left:
            log.warning("shutdown: %d webhook updates still running were stopped; Telegram delivers them again", len(left))
            for work in left:
                work.cancel()
            await asyncio.wait(left, timeout=1.0)
        if runner is not None:
            await runner.cleanup()

    @property
    def running(self) -> bool:
        return self._runner is not None


def serving(application: Application) -> WebhookServer | None:
    """The webhook server started for `application`, if any."""
    return _servers.get(application)


def _refused(status: int, why: str) -> web.Response:
    log.info("refused a webhook request with %d: %s", status, why)
    response = web.Response(status=status)
    response.force_close()  # no keep-alive for a refused client; its unread body is dropped, not read
    return response
