"""The outbox loop every long-running channel runs: replies that were stored with their turn but
never reported shown (a failed send, a process killed between commit and send) go out here.

Each pass claims the channel's due replies in the database (one process each, see store/outbox.py)
and shows them owner by owner, oldest first. A send that fails holds back that owner's later
replies, so a chat never sees them out of order; the platform's "retry after" is honoured, other
failures back off exponentially, and a reply the platform will never take is dropped. On shutdown
(`stop`) the reply being sent is finished and the rest keep their lease for the next process.
Each reply sent is counted (journeybot_outbox_resent_total).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable

from app import Journeys, OwnerKey
from app.outgoing import Outgoing
from bot.replies import Reply
from handlers.kit.signals import Periodic

log = logging.getLogger(__name__)

MAX_BACKOFF = 600.0
GIVE_UP_AFTER = 40  # attempts: about four hours at the longest back-off


class RetryLater(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds:g} s")
        self.seconds = seconds


class Undeliverable(Exception):
    """The platform will never accept this reply (the owner blocked the bot, the chat is gone)."""


# Shows the items made from one reply to the owner at `address`; returns the platform's id of the
# last message (or None), and raises RetryLater / Undeliverable / anything else.
Show = Callable[[OwnerKey, dict[str, Any], list[Outgoing]], Awaitable[str | int | None]]


def backoff(attempts: int) -> float:
    return min(2.0 ** max(attempts, 1), MAX_BACKOFF)


class OutboxLoop(Periodic):
    def __init__(self, journeys: Journeys, channel: str, show: Show, *, interval: float = 1.0, workspace: str | None = None) -> None:
        super().__init__()
        self.journeys = journeys
        self.workspace = workspace
        self.channel = channel
        self.show = show
        self.interval = interval

    async def once(self) -> int:
        """One pass; returns how many replies were delivered."""
        due = await asyncio.to_thread(lambda: self.journeys.due_replies(self.channel, workspace=self.workspace))
        stuck: set[OwnerKey] = set()
        sent = 0
        for each in due:
            if self.stopping:
                break
            owner, reply = each.owner, each.reply
            if each.attempts > GIVE_UP_AFTER:
                log.warning("a %s reply was dropped after %d attempts", self.channel, each.attempts)
                await asyncio.to_thread(self.journeys.undeliverable, _receipt(reply))
                continue
            if owner in stuck:  # an earlier reply of this owner failed: keep the order
                await asyncio.to_thread(self.journeys.retry_later, _receipt(reply), 1.0)
                continue
            try:
                items = [item async for item in self.journeys.expand(owner, reply)]
                ref = await self.show(owner, each.address, items)
            except RetryLater as exc:
                stuck.add(owner)
                await asyncio.to_thread(self.journeys.retry_later, _receipt(reply), exc.seconds)
                continue
            except Undeliverable as exc:
                log.warning("a %s reply was dropped: %s", self.channel, exc)
                await asyncio.to_thread(self.journeys.undeliverable, _receipt(reply))
                continue
            except Exception as exc:  # this owner's failure must not stop the others
                stuck.add(owner)
                log.warning("a %s reply could not be sent (%s); tried again later", self.channel, type(exc).__name__)
                await asyncio.to_thread(self.journeys.retry_later, _receipt(reply), backoff(each.attempts))
                continue
            await self.journeys.delivered(reply if not items else items[-1], ref)
            sent += 1
            self.journeys.metrics.resent(self.channel)
        return sent

    def failed(self) -> None:  # a failed pass (database down) is retried at the next one
        log.warning("looking for replies to send failed", exc_info=True)


def _receipt(reply: Reply) -> int:
    assert reply.receipt is not None
    return reply.receipt
