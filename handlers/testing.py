"""The test channel: an in-memory channel over the application layer, like errbot's test backend.

    channel = TestChannel(journeys, user_id="ann")
    channel.push("/start")                  # typed text, or any bot.events Event
    question = channel.pop()                # the neutral items the owner would see, oldest first
    channel.tap("b2b")                      # tap a choice of the question on screen
    items = channel.pop_all()

Every push carries a fresh dedup key, as a platform's update or event id would; `redeliver()` sends
the last event again with the same key (a platform retry). Nothing is rendered: the items are the
neutral outgoing items of `Journeys.turn` (bot.replies.Reply, ReportItem, FileItem, ImageItem).
"""
from __future__ import annotations

import asyncio
import itertools
from collections import deque
from typing import Iterable

from app import Journeys, OwnerKey
from app.outgoing import Outgoing, is_question
from bot.events import Choice, Event, Start, parse_input
from bot.replies import Reply

__all__ = ["TestChannel", "Empty"]
CHANNEL = "test"
_ids = itertools.count(1)


class Empty(LookupError):
    """pop() on a channel with nothing waiting."""


class TestChannel:
    __test__ = False  # not a pytest test class

    def __init__(self, journeys: Journeys, *, user_id: str = "owner", workspace: str = "local", lang_hint: str | None = None) -> None:
        self.journeys = journeys
        self.owner = OwnerKey(CHANNEL, workspace, user_id)
        self.lang_hint = lang_hint
        self.outbox: deque[Outgoing] = deque()
        self.question: Reply | None = None
        self.last: tuple[Event, str] | None = None

    # -- incoming ----------------------------------------------------------------
    def push(self, text_or_event: str | Event, *, dedup_key: str | None = None) -> list[Outgoing]:
        """Deliver typed text (or an event) from the owner; returns the items it produced (also queued)."""
        return _run(self.apush(text_or_event, dedup_key=dedup_key))

    async def apush(self, text_or_event: str | Event, *, dedup_key: str | None = None) -> list[Outgoing]:
        event = parse_input(text_or_event) if isinstance(text_or_event, str) else text_or_event
        key = dedup_key or f"{CHANNEL}:{self.owner.user_id}:{next(_ids)}"
        self.last = (event, key)
        out: list[Outgoing] = []
        async for item in self.journeys.turn(self.owner, event, dedup_key=key, lang_hint=self.lang_hint):
            if is_question(item):
                self.question = item  # type: ignore[assignment]
            elif isinstance(item, Reply) and item.type == "forgotten":
                self.question = None
            out.append(item)
        self.outbox.extend(out)
        return out

    def start(self) -> list[Outgoing]:
        return self.push(Start(lang_hint=self.lang_hint))

    def tap(self, value: str) -> list[Outgoing]:
        """Tap the choice `value` of the question on screen (a button press on a real platform)."""
        question = self.question
        if question is None or question.step is None:
            raise AssertionError(f"no question on screen to tap {value!r}")
        if value not in {c.value for c in question.choices}:
            raise AssertionError(f"no choice {value!r} in {[c.value for c in question.choices]}")
        return self.push(Choice(value, question.step))

    def redeliver(self) -> list[Outgoing]:
        """The platform delivers the last event again, with the same key: nothing new may happen."""
        assert self.last is not None, "nothing delivered yet"
        event, key = self.last
        return self.push(event, dedup_key=key)

    def reminders(self) -> list[Outgoing]:
        """Run the channel's reminder pass for this owner: each reminder arrives as an info text."""
        out: list[Outgoing] = [
            Reply(type="info", text=r.text, lang=r.lang, journey_id=r.journey_id, data={"reminder": True})
            for r in self.journeys.reminders(CHANNEL, owner=self.owner)
        ]
        self.outbox.extend(out)
        return out

    # -- outgoing ----------------------------------------------------------------
    def pop(self) -> Outgoing:
        if not self.outbox:
            raise Empty("nothing was sent to the owner")
        return self.outbox.popleft()

    def pop_all(self) -> list[Outgoing]:
        items = list(self.outbox)
        self.outbox.clear()
        return items

    def __len__(self) -> int:
        return len(self.outbox)


def _run(coro) -> list[Outgoing]:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    raise RuntimeError("TestChannel.push inside an event loop: await apush(...) instead")


def many(channel: TestChannel, lines: Iterable[str]) -> list[Outgoing]:
    """Push several typed lines; every item they produced."""
    out: list[Outgoing] = []
    for line in lines:
        out += channel.push(line)
    return out
