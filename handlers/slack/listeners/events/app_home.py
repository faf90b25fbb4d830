"""The App Home tab (app_home_opened, tab "home"): the owner's journeys are published as their Home view.

The view lists the owner's journeys in this workspace, newest first (app.home), with each journey's
map picture when a touchpoint is rated. The picture is uploaded privately (files_upload_v2 without
a channel) and shown by its file id; the id is kept per journey and PNG hash, so opening the tab
again uploads nothing unless the map changed. A picture that cannot be made or uploaded is left out
and the view is published without it.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from app import JourneyNotFound, OwnerKey, StoreUnavailable
from app.home import HomeJourney, home
from handlers.slack import home as blocks
from handlers.slack import render
from handlers.slack.core import SlackJourneys

log = logging.getLogger(__name__)
MAX_PICTURES = 1000  # uploaded map pictures remembered (one per journey, the newest used first)


class HomeTab:
    """Publishes owners' Home views for one installation; remembers the map pictures it uploaded."""

    def __init__(self, journeys: SlackJourneys) -> None:
        self.journeys = journeys
        self._files: OrderedDict[tuple[int, str], str] = OrderedDict()  # (journey id, sha256 of the PNG) -> Slack file id

    async def publish(self, client: AsyncWebClient, owner: OwnerKey) -> None:
        """views.publish the owner's Home view as things stand now."""
        lang = await self.journeys.lang(owner, client)
        try:
            listed = await asyncio.to_thread(home, self.journeys.app, owner)
        except StoreUnavailable:
            await client.views_publish(user_id=owner.user_id, view=blocks.view(render.sections(blocks.t(lang, "store_down"))))
            return
        pictures: dict[int, str] = {}
        for journey in listed[: blocks.MAX_JOURNEYS]:
            if journey.rated > 0:
                file_id = await self.picture(client, owner, journey)
                if file_id:
                    pictures[journey.id] = file_id
        try:
            await client.views_publish(user_id=owner.user_id, view=blocks.view(blocks.home_blocks(lang, listed, pictures)))
        except SlackApiError as exc:
            if not pictures or exc.response.get("error") != "invalid_blocks":
                raise
            # Slack no longer knows a remembered file (deleted, say): without pictures, and upload them anew next time
            log.info("views.publish refused the Home view with its map pictures (%s); publishing it without them", _detail(exc))
            self._forget(set(pictures.values()))
            await client.views_publish(user_id=owner.user_id, view=blocks.view(blocks.home_blocks(lang, listed)))

    async def quietly(self, client: AsyncWebClient, owner: OwnerKey) -> None:
        """`publish`, for work nobody waits for: a failure is logged, never posted to the owner."""
        try:
            await self.publish(client, owner)
        except SlackApiError as exc:
            log.warning("could not publish the Home tab: %s", _detail(exc))
        except Exception:
            log.exception("could not publish the Home tab")

    async def picture(self, client: AsyncWebClient, owner: OwnerKey, journey: HomeJourney) -> str | None:
        """The Slack file id of the journey's map picture, uploaded if this PNG was not yet; None
        when there is no picture to show."""
        try:
            item = await self.journeys.app.map_image(owner, journey.id)
        except (JourneyNotFound, StoreUnavailable) as exc:
            log.info("no map picture for journey %d: %s", journey.id, type(exc).__name__)
            return None
        except Exception:
            log.warning("the map picture of journey %d could not be drawn", journey.id, exc_info=True)
            return None
        key = (journey.id, hashlib.sha256(item.data).hexdigest())
        known = self._files.get(key)
        if known is not None:
            self._files.move_to_end(key)
            return known
        try:
            result = await client.files_upload_v2(filename=item.filename, file=item.data, title=item.filename, alt_txt=journey.title[:1000])
            file_id = str((result.get("file") or {})["id"])
        except Exception as exc:  # Slack refused it or cannot be reached: the view goes out without it
            log.info("the map picture of journey %d was not uploaded (%s); the Home tab shows none", journey.id, _detail(exc))
            return None
        for old in [k for k in self._files if k[0] == journey.id]:
            del self._files[old]  # an older picture of the same journey
        self._files[key] = file_id
        while len(self._files) > MAX_PICTURES:
            self._files.popitem(last=False)
        return file_id

    def _forget(self, file_ids: set[str]) -> None:
        for key in [k for k, v in self._files.items() if v in file_ids]:
            del self._files[key]


def _detail(exc: Exception) -> str:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return str(exc.response.get("error") or "error")
    return type(exc).__name__


def register(app: AsyncApp, journeys: SlackJourneys) -> HomeTab:
    """The app_home_opened listener; returns the HomeTab its buttons (actions/home.py) publish with."""
    tab = HomeTab(journeys)

    @app.event("app_home_opened")
    async def home_opened(ack: Any, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        if event.get("tab") != "home" or not event.get("user"):
            return  # the Messages tab is the DM
        owner = journeys.owner(body.get("team_id") or event.get("team") or "", event["user"])
        if event.get("channel"):
            journeys.remember_dm(owner, str(event["channel"]))
        journeys.spawn_for(owner, tab.quietly(client, owner))

    return tab
