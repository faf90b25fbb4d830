"""The owner's home screen (Slack's App Home tab): what it lists, and the export of one journey.

A narrow read of the store (`Store.home`), nothing of the turn: the home screen only shows what the
owner's journeys stand at; its buttons go through the same turns as the chat's commands.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, AsyncIterator

from bot.replies import Reply
from app.outgoing import Outgoing
from store.records import HomeJourney, OwnerKey, TodoRecord

if TYPE_CHECKING:
    from app.journeys import Journeys

__all__ = ["HomeJourney", "TodoRecord", "home", "export"]


def home(journeys: Journeys, owner: OwnerKey) -> list[HomeJourney]:
    """The owner's journeys, newest first, with their progress, next review date, to-dos still open
    or planned, and how many touchpoints are rated. Only this owner's journeys, never another's."""
    return journeys.store.home(owner)


async def export(journeys: Journeys, owner: OwnerKey, journey_id: int, lang: str) -> AsyncIterator[Outgoing]:
    """What `/journey export` hands over for this journey (its files), without making it the current
    journey. JourneyNotFound when it is not the owner's."""
    async for item in journeys.expand(owner, Reply(type="export", text="", lang=lang, journey_id=journey_id)):
        yield item
