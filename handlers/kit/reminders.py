"""The review-reminder loop every long-running channel runs; it also tells owners about customers'
answers that came in through their survey link ("3 new customer answers"), batched per pass.

Reminders are claimed in the database (one process each); one owner whose reminder fails never
stops the loop, and a claimed reminder that could not be sent is released for the next pass. On
shutdown (`stop`) the reminder being sent is finished and the rest of the pass is released.
Each one sent is counted (journeybot_reminders_sent_total, journeybot_survey_news_sent_total).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from app import Journeys, Reminder
from handlers.kit.signals import Periodic

log = logging.getLogger(__name__)
Send = Callable[[Reminder], Awaitable[None]]


class ReminderLoop(Periodic):
    def __init__(self, journeys: Journeys, channel: str, send: Send, *, interval: float, workspace: str | None = None) -> None:
        super().__init__()
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
        for index, reminder in enumerate(due):
            if self.stopping:  # shutting down: the rest is due again for the next process
                await self._release(due[index:])
                break
            try:
                await self.send(reminder)
            except Exception:  # this owner's failure must not stop the others
                log.warning("review reminder for a %s owner could not be sent; released for the next pass", self.channel, exc_info=True)
                await self._release([reminder])
            else:
                sent += 1
                self.journeys.metrics.reminder_sent(self.channel, news=reminder.claim is None)
        return sent

    async def _release(self, reminders: list[Reminder]) -> None:
        for reminder in reminders:
            try:
                await asyncio.to_thread(self.journeys.release, reminder)
            except Exception:
                log.warning("releasing a review reminder failed", exc_info=True)

    def failed(self) -> None:  # a failed pass (database down) is retried at the next one
        log.warning("looking for review reminders failed", exc_info=True)
