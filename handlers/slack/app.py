"""`journeybot slack`: the slack-bolt AsyncApp, in HTTP mode (default) or Socket Mode.

In HTTP mode, requests pass `SlackRequests` first: headers, size and signature are checked before
the body is parsed, and a malformed request gets a 4xx, never a 500 or a traceback.

Environment:
  SLACK_BOT_TOKEN       the bot token (xoxb-...), required
  SLACK_SIGNING_SECRET  verifies that HTTP requests come from Slack (HTTP mode)
  SLACK_APP_TOKEN       an app-level token (xapp-...): switches to Socket Mode
  SLACK_API_URL         another Web API base URL (Enterprise setups, tests), e.g. http://127.0.0.1:8080/api/
  DATABASE_URL          where journeys are stored (see the README)
  JOURNEYBOT_HEALTH_PORT       a listener of its own for /healthz, /readyz and /metrics (Socket Mode
                               has no server; the HTTP server serves them too), on JOURNEYBOT_HEALTH_LISTEN
  JOURNEYBOT_SHUTDOWN_TIMEOUT  seconds from SIGTERM to exit (default 20)
"""
from __future__ import annotations

import argparse
import asyncio
import errno
import hashlib
import hmac
import logging
import os
import time
from typing import Any, Mapping

import aiohttp
from aiohttp import web

import prompts
from app import Journeys
from handlers import logs
from handlers.kit.intake import FileTooLarge, read_limited
from handlers.kit.health import HealthServer, health_port, health_routes
from handlers.kit.signals import DEFAULT_SHUTDOWN_TIMEOUT, Deadline, stop_on_signals

from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.core import SlackJourneys
from handlers.slack.listeners import register_listeners

log = logging.getLogger(__name__)
PATH = "/slack/events"
DEFAULT_PORT = 3000
REMINDERS = web.AppKey("reminders", asyncio.Task)
HEALTH = web.AppKey("health", HealthServer)
REQUESTS_SHARE = 0.2  # of the shutdown time, kept for the HTTP requests in flight after the drain (at most 2 s)
MAX_BODY = 1_000_000  # bytes of one request from Slack; its largest payloads are far smaller
MAX_CLOCK_SKEW = 300  # seconds: an older signed request is a replay (Slack's own rule)


class ConfigError(RuntimeError):
    """The app cannot start: a setting is missing or wrong, Slack refuses a token or cannot be
    reached, or the port is taken. `key` names the one-line text in slack.yaml `settings`; the
    values it shows never include a token."""

    def __init__(self, key: str, **values: Any) -> None:
        self.key = key
        self.values = values
        super().__init__(self.text(prompts.DEFAULT_LANGUAGE))

    def text(self, lang: str) -> str:
        return prompts.say(lang, "slack", f"settings.{self.key}", **self.values)


def web_client(env: Mapping[str, str]) -> AsyncWebClient:
    token = env.get("SLACK_BOT_TOKEN", "").strip()
    if not token:
        raise ConfigError("missing", name="SLACK_BOT_TOKEN")
    kwargs: dict[str, Any] = {"token": token}
    base_url = env.get("SLACK_API_URL", "").strip()
    if base_url:
        kwargs["base_url"] = base_url if base_url.endswith("/") else base_url + "/"
    client = AsyncWebClient(**kwargs)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    return client


def build_app(journeys: Journeys | None = None, env: Mapping[str, str] | None = None) -> tuple[AsyncApp, SlackJourneys]:
    """The Bolt app with every listener registered, and the adapter behind it."""
    env = os.environ if env is None else env
    socket_mode = bool(env.get("SLACK_APP_TOKEN", "").strip())
    secret = env.get("SLACK_SIGNING_SECRET", "").strip()
    if not secret and not socket_mode:
        raise ConfigError("missing_secret")
    client = web_client(env)
    adapter = SlackJourneys(journeys or Journeys.from_env(env))
    app = AsyncApp(signing_secret=secret or None, client=client, process_before_response=False)
    app.middleware(same_workspace)
    register_listeners(app, adapter)
    return app, adapter


async def same_workspace(context: Any, next: Any) -> Any:  # noqa: A002 - Bolt's argument name
    """This installation serves the workspace its token belongs to; requests from any other
    workspace (same app, other install) get an empty acknowledgement and nothing else."""
    result = context.authorize_result
    team = context.team_id
    if result is not None and result.team_id and team and team != result.team_id:
        same_org = bool(context.enterprise_id) and context.enterprise_id == result.enterprise_id
        if not same_org:
            log.warning("ignored a request from workspace %s (installed in %s)", team, result.team_id)
            return BoltResponse(status=200, body="")
    return await next()


class SlackRequests:
    """The HTTP endpoint in front of Bolt: cheap checks first, so a request that is not from Slack
    costs neither memory nor a traceback.

    In this order: the signature headers must be there and the timestamp a recent number (else 401,
    the body unread); the body must be at most MAX_BODY (else 413, a declared larger one unread);
    the signature must match the body (else 401); only then is the body parsed, and one that is not
    a form or a JSON object with the outline Bolt reads, or whose `payload=` is not JSON, gets 400.
    Nothing of it reaches the log above INFO. Bolt checks the signature again, as always."""

    def __init__(self, app: AsyncApp, signing_secret: str, *, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.secret = signing_secret.encode("utf-8")
        self.max_body = max_body

    def signed(self, body: bytes, timestamp: str, signature: str) -> bool:
        """Slack's v0 signature over the raw bytes (a body that is no UTF-8 is simply unsigned)."""
        expected = "v0=" + hmac.new(self.secret, b"v0:" + timestamp.encode("ascii") + b":" + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace"))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "").strip()
        signature = request.headers.get("X-Slack-Signature", "").strip()
        if not timestamp or not signature:
            return _refused(401, "no signature")
        if not (timestamp.isascii() and timestamp.isdigit()) or abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW:
            return _refused(401, "a timestamp that is not a recent number")
        if request.content_length is not None and request.content_length > self.max_body:
            return _refused(413, "a body over the limit")
        try:
            body = await read_limited(request.content.iter_chunked(64 * 1024), self.max_body)
        except FileTooLarge:
            return _refused(413, "a body over the limit")
        if not self.signed(body, timestamp, signature):
            return _refused(401, "a wrong signature")
        try:
            text = body.decode("utf-8")
            _check_shape(parse_body(text, request.content_type))
            bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
        except Exception as exc:  # malformed, though signed: Slack never sends this
            return _refused(400, f"a body that cannot be read ({type(exc).__name__})")
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))


_OBJECTS = ("event", "container", "message", "view", "state")  # always JSON objects where Slack sends them
_OBJECT_LISTS = ("actions", "authorizations")
_IDS = ("team", "user", "channel", "enterprise")  # an object or an id, by payload type


def _check_shape(body: Any) -> None:
    """ValueError unless the payload has the outline Bolt reads without looking: an object, with
    objects, lists of objects and ids where Slack puts them."""
    if not isinstance(body, dict):
        raise ValueError("not an object")
    for name in _OBJECTS:
        if body.get(name) is not None and not isinstance(body[name], dict):
            raise ValueError(name)
    for name in _OBJECT_LISTS:
        value = body.get(name)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            raise ValueError(name)
    for name in _IDS:
        if body.get(name) is not None and not isinstance(body[name], (dict, str)):
            raise ValueError(name)


def _refused(status: int, why: str) -> web.Response:
    log.info("refused a request on %s with %d: %s", PATH, status, why)
    response = web.Response(status=status, text="")
    if status == 413:
        response.force_close()  # the rest of the body is not wanted
    return response


def web_app(app: AsyncApp, signing_secret: str, path: str = PATH, journeys: Journeys | None = None) -> web.Application:
    """The aiohttp application serving Slack's requests at `path` (see SlackRequests), and with
    `journeys` the survey page customers answer on (handlers/web.py) and /healthz, /readyz and
    /metrics (handlers/kit/health.py)."""
    web_app = web.Application(client_max_size=MAX_BODY)
    web_app.router.add_post(path, SlackRequests(app, signing_secret).handle)
    if journeys is not None:
        from handlers.web import survey_routes

        web_app.add_routes(survey_routes(journeys))
        web_app.add_routes(health_routes(journeys))
    return web_app


async def socket_mode(
    app: AsyncApp,
    app_token: str,
    journeys: SlackJourneys | None = None,
    reminder_interval: float = 0,
    *,
    health: HealthServer | None = None,
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
) -> None:
    """Connect to Slack over Socket Mode until stopped (SIGTERM, SIGINT); then disconnect (no new
    events), finish the work already accepted and write the receipts, within `shutdown_timeout`.
    `health` (JOURNEYBOT_HEALTH_PORT) serves /healthz, /readyz and /metrics meanwhile."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(app, app_token)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if health is not None:
        await health.start()
    handled = stop_on_signals(loop, stop.set)
    if journeys is not None:
        journeys.start_reminders(app.client, reminder_interval)
    connection = asyncio.ensure_future(handler.start_async())
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({connection, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if connection.done():
            connection.result()  # a failed connection is raised
    finally:
        deadline = Deadline(shutdown_timeout)
        for sig in handled:
            loop.remove_signal_handler(sig)
        if health is not None:
            health.stopping()
        for task in (connection, stopping):
            if not task.done():
                task.cancel()
        try:  # first no new events, then the work Slack was told about
            await asyncio.wait_for(handler.close_async(), requests_timeout(shutdown_timeout))
        except Exception:  # TimeoutError too: the connection goes with the process
            log.warning("closing the Socket Mode connection failed", exc_info=True)
        if journeys is not None:
            await journeys.drain(deadline.left())
        if health is not None:
            await health.stop()


def with_lifecycle(
    web_app: web.Application,
    app: AsyncApp,
    journeys: SlackJourneys,
    interval: float,
    *,
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
    health: HealthServer | None = None,
) -> web.Application:
    """Send due review reminders from a background task while the HTTP server runs; on shutdown
    (SIGTERM, SIGINT: the server has stopped taking connections) let them finish their pass, finish
    the work already acknowledged to Slack and write the receipts, within `shutdown_timeout` less
    the share kept for the requests in flight (`requests_timeout`). `health` is an extra listener
    for /healthz, /readyz and /metrics (JOURNEYBOT_HEALTH_PORT)."""

    async def start(_: web.Application) -> None:
        if health is not None:
            await health.start()
            web_app[HEALTH] = health
        task = journeys.start_reminders(app.client, interval)
        if task is not None:
            web_app[REMINDERS] = task

    async def shutdown(_: web.Application) -> None:
        listener = web_app.get(HEALTH)
        if listener is not None:
            listener.stopping()
        await journeys.drain(max(shutdown_timeout - requests_timeout(shutdown_timeout), 0.0))
        if listener is not None:
            await listener.stop()

    web_app.on_startup.append(start)
    web_app.on_shutdown.append(shutdown)
    return web_app


def requests_timeout(shutdown_timeout: float) -> float:
    """The share of the shutdown time the HTTP server waits for requests still in flight (they only
    acknowledge: the work they start is drained before)."""
    return min(shutdown_timeout * REQUESTS_SHARE, 2.0)


def _health(env: Mapping[str, str], journeys: Journeys) -> HealthServer | None:
    try:
        where = health_port(env)
    except ValueError:
        raise ConfigError("bad_number", name="JOURNEYBOT_HEALTH_PORT", value=env.get("JOURNEYBOT_HEALTH_PORT", "")) from None
    return None if where is None else HealthServer(journeys, *where)


def run(port: int = DEFAULT_PORT, env: Mapping[str, str] | None = None, journeys: Journeys | None = None) -> None:
    """Serve until interrupted: HTTP on `port` at /slack/events, or Socket Mode with SLACK_APP_TOKEN;
    on SIGTERM or SIGINT stop within JOURNEYBOT_SHUTDOWN_TIMEOUT (see `with_lifecycle`, `socket_mode`)."""
    env = os.environ if env is None else env
    app, adapter = build_app(journeys, env=env)
    interval = float(env.get("JOURNEYBOT_REMINDER_INTERVAL", "60") or 60)
    adapter.outbox_interval = _number(env, "JOURNEYBOT_OUTBOX_INTERVAL", 1)
    timeout = _number(env, "JOURNEYBOT_SHUTDOWN_TIMEOUT", DEFAULT_SHUTDOWN_TIMEOUT)
    health = _health(env, adapter.app)
    app_token = env.get("SLACK_APP_TOKEN", "").strip()
    try:
        if app_token:
            log.info("journeybot: Slack in Socket Mode")
            asyncio.run(socket_mode(app, app_token, adapter, interval, health=health, shutdown_timeout=timeout))
            return
        log.info("journeybot: Slack over HTTP on port %d, path %s", port, PATH)
        secret = env.get("SLACK_SIGNING_SECRET", "").strip()
        served = with_lifecycle(web_app(app, secret, journeys=adapter.app), app, adapter, interval, shutdown_timeout=timeout, health=health)
        web.run_app(served, port=port, shutdown_timeout=requests_timeout(timeout))
    finally:
        if journeys is None:
            adapter.app.close()  # made here, closed here; a caller's Journeys is the caller's to close


TOKEN_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "not_allowed_token_type"})


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = (env.get(name) or "").strip()
    try:
        return float(raw) if raw else float(default)
    except ValueError:
        raise ConfigError("bad_number", name=name, value=raw) from None


async def check_tokens(client: AsyncWebClient, app_token: str = "") -> None:
    """auth.test with the bot token (and, for Socket Mode, apps.connections.open with the app-level
    token) before anything starts: a refused token or an unreachable Web API becomes a ConfigError.
    Bolt would otherwise find out only at the first request from Slack, and Socket Mode would retry
    a refused app-level token for ever."""
    name = "SLACK_BOT_TOKEN"
    try:
        await client.auth_test()
        if app_token:
            name = "SLACK_APP_TOKEN"
            await client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        raise _api_error(exc, name) from None
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise ConfigError("unreachable", url=client.base_url, error=str(exc) or type(exc).__name__) from None


def _api_error(exc: SlackApiError, name: str) -> ConfigError:
    error = str(exc.response.get("error") if exc.response is not None else "") or "unknown_error"
    if error in TOKEN_ERRORS:
        return ConfigError("token_rejected", name=name, error=error)
    return ConfigError("api_error", error=error)


def preflight(env: Mapping[str, str] | None = None) -> None:
    """What can be checked before the app starts: the settings and the bot token."""
    env = os.environ if env is None else env
    _number(env, "JOURNEYBOT_REMINDER_INTERVAL", 60)
    _number(env, "JOURNEYBOT_OUTBOX_INTERVAL", 1)
    _number(env, "JOURNEYBOT_SHUTDOWN_TIMEOUT", DEFAULT_SHUTDOWN_TIMEOUT)
    if not env.get("SLACK_SIGNING_SECRET", "").strip() and not env.get("SLACK_APP_TOKEN", "").strip():
        raise ConfigError("missing_secret")
    loop = asyncio.new_event_loop()  # its own loop: the server or Socket Mode makes theirs
    try:
        loop.run_until_complete(check_tokens(web_client(env), env.get("SLACK_APP_TOKEN", "").strip()))
    finally:
        loop.close()


def main(journeys: Journeys | None = None, *, port: int | None = None, argv: list[str] | None = None) -> int:
    """Entry point of `journeybot slack` (handlers/cli.py passes the application layer and --port)
    and of `python -m handlers.slack [--port N]`. Returns an exit code: 2, after one line in the
    operator's language (JOURNEYBOT_LANG, LANG) on stderr, when the app cannot start; never a
    traceback, never a token."""
    lang = prompts.normalise_language(os.environ.get("JOURNEYBOT_LANG") or os.environ.get("LANG"))
    if not logging.getLogger().handlers:
        logs.configure("INFO")
    try:
        if port is None:
            parser = argparse.ArgumentParser(prog="journeybot slack", description=prompts.say(lang, "cli", "slack"))
            parser.add_argument("--port", type=int, default=None, help=prompts.say(lang, "cli", "port"))
            port = parser.parse_args(argv).port
            if port is None:
                port = int(_number(os.environ, "PORT", DEFAULT_PORT))
        preflight()
        try:
            run(port=port, journeys=journeys)
        except SlackApiError as exc:  # Socket Mode, refused after the check
            raise _api_error(exc, "SLACK_APP_TOKEN") from None
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError("port_in_use", port=port) from None
            if exc.errno in (errno.EACCES, errno.EADDRNOTAVAIL):
                raise ConfigError("cannot_listen", port=port, error=exc.strerror or exc) from None
            raise
    except ConfigError as exc:
        logs.fail(exc.text(lang))
        return 2
    finally:
        if journeys is not None:
            journeys.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
