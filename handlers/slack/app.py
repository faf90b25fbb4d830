"""`journeybot slack`: the slack-bolt AsyncApp, in HTTP mode (default) or Socket Mode.

Environment:
  SLACK_BOT_TOKEN       the bot token (xoxb-...), required
  SLACK_SIGNING_SECRET  verifies that HTTP requests come from Slack (HTTP mode)
  SLACK_APP_TOKEN       an app-level token (xapp-...): switches to Socket Mode
  SLACK_API_URL         another Web API base URL (Enterprise setups, tests), e.g. http://127.0.0.1:8080/api/
  DATABASE_URL          where journeys are stored (see the README)
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os

from aiohttp import web

import prompts
from handlers import logs
from typing import Any, Mapping

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from handlers.service import JourneyService
from handlers.slack.core import SlackJourneys
from handlers.slack.listeners import register_listeners

log = logging.getLogger(__name__)
PATH = "/slack/events"
DEFAULT_PORT = 3000
REMINDERS = web.AppKey("reminders", asyncio.Task)


class ConfigError(RuntimeError):
    """A required setting is missing."""


def web_client(env: Mapping[str, str]) -> AsyncWebClient:
    token = env.get("SLACK_BOT_TOKEN", "").strip()
    if not token:
        raise ConfigError("SLACK_BOT_TOKEN is not set")
    kwargs: dict[str, Any] = {"token": token}
    base_url = env.get("SLACK_API_URL", "").strip()
    if base_url:
        kwargs["base_url"] = base_url if base_url.endswith("/") else base_url + "/"
    client = AsyncWebClient(**kwargs)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    return client


def build_app(service: JourneyService | None = None, env: Mapping[str, str] | None = None) -> tuple[AsyncApp, SlackJourneys]:
    """The Bolt app with every listener registered, and the adapter behind it."""
    env = os.environ if env is None else env
    socket_mode = bool(env.get("SLACK_APP_TOKEN", "").strip())
    secret = env.get("SLACK_SIGNING_SECRET", "").strip()
    if not secret and not socket_mode:
        raise ConfigError("SLACK_SIGNING_SECRET is not set (or set SLACK_APP_TOKEN for Socket Mode)")
    client = web_client(env)
    service = service or JourneyService.from_env(env)
    journeys = SlackJourneys(service)
    app = AsyncApp(signing_secret=secret or None, client=client, process_before_response=False)
    app.middleware(same_workspace)
    register_listeners(app, journeys)
    return app, journeys


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


async def socket_mode(app: AsyncApp, app_token: str, journeys: SlackJourneys | None = None, reminder_interval: float = 0) -> None:
    """Connect to Slack over Socket Mode (the handler needs a running event loop) until stopped."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(app, app_token)
    reminders = asyncio.create_task(journeys.reminder_loop(app.client, reminder_interval)) if journeys and reminder_interval > 0 else None
    try:
        await handler.start_async()
    finally:
        if reminders is not None:
            reminders.cancel()
        await handler.close_async()


def with_reminders(web_app: web.Application, app: AsyncApp, journeys: SlackJourneys, interval: float) -> web.Application:
    """Send due review reminders from a background task while the HTTP server runs."""

    async def start(_: web.Application) -> None:
        web_app[REMINDERS] = asyncio.create_task(journeys.reminder_loop(app.client, interval))

    async def stop(_: web.Application) -> None:
        web_app[REMINDERS].cancel()

    if interval > 0:
        web_app.on_startup.append(start)
        web_app.on_cleanup.append(stop)
    return web_app


def run(port: int = DEFAULT_PORT, env: Mapping[str, str] | None = None, service: JourneyService | None = None) -> None:
    """Serve until interrupted: HTTP on `port` at /slack/events, or Socket Mode with SLACK_APP_TOKEN."""
    env = os.environ if env is None else env
    app, journeys = build_app(service, env=env)
    interval = float(env.get("JOURNEYBOT_REMINDER_INTERVAL", "60") or 60)
    app_token = env.get("SLACK_APP_TOKEN", "").strip()
    if app_token:
        log.info("journeybot: Slack in Socket Mode")
        asyncio.run(socket_mode(app, app_token, journeys, interval))
        return
    log.info("journeybot: Slack over HTTP on port %d, path %s", port, PATH)
    web.run_app(with_reminders(app.web_app(path=PATH, port=port), app, journeys, interval), port=port)


def main(service: JourneyService | None = None, *, port: int | None = None, argv: list[str] | None = None) -> int:
    """Entry point of `journeybot slack` (handlers/cli.py passes the service and --port)
    and of `python -m handlers.slack [--port N]`."""
    if port is None:
        lang = prompts.normalise_language(os.environ.get("JOURNEYBOT_LANG") or os.environ.get("LANG"))
        parser = argparse.ArgumentParser(prog="journeybot slack", description=prompts.say(lang, "cli", "slack"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", DEFAULT_PORT)), help=prompts.say(lang, "cli", "port"))
        port = parser.parse_args(argv).port
    if not logging.getLogger().handlers:
        logs.configure("INFO")
    try:
        run(port=port, service=service)
    except ConfigError as exc:
        log.error("%s", exc)
        return 2
    finally:
        if service is not None:
            service.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
