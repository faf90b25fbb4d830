"""The review-reminder loop every long-running channel runs; it also tells owners about customers'
answers that came in through their survey link ("3 new customer answers"), batched per pass.

Reminders are claimed in the database (one process each); one owner whose reminder fails never
stops the loop, and a claimed reminder that could not be sent is released for the next pass.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from app import Journeys, Reminder

log = logging.getLogger(__name__)
Send = Callable[[Reminder], Awaitable[None]]


class ReminderLoop:
    def __init__(self, journeys: Journeys, channel: str, send: Send, *, interval: float, workspace: str | None = None) -> None:
        self.journeys = journeys
        self.channel = channel
        self.send = send
        self.interval = interval
        self.workspace = workspace

    async def once(self) -> int:
        """One pass: claim what is due, send each; returns how many were delivered."""
        due = await asyncio.to_thread(self.journeys.reminders, self.channel, workspace=self.workspace)
        # customers' answers that came in through a survey link since the owner was last told
        due += await asyncio.to_thread(lambda: self.journeys.survey_news(self.channel, workspace=self.workspace))
        sent = 0
        for reminder in due:
            try:
                await self.send(reminder)
                sent += 1
            except Exception:  # this owner's failure must not stop the others
                log.warning("review reminder for a %s owner could not be sent; released for the next pass", self.channel, exc_info=True)
                try:
                    await asyncio.to_thread(self.journeys.release, reminder)
                except Exception:
                    log.warning("releasing a review reminder failed", exc_info=True)
        return sent

    async def run(self) -> None:
        while True:
            try:
                await self.once()
            except Exception:  # a failed pass (database down) is retried at the next one
                log.warning("looking for review reminders failed", exc_info=True)
            await asyncio.sleep(self.interval)

    def start(self) -> asyncio.Task[None] | None:
        return asyncio.create_task(self.run()) if self.interval > 0 else None
