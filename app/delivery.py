"""Replies through the outbox: stored with the turn that made them, shown, then marked delivered.

A channel that passes an address to `Journeys.turn` gets at-least-once delivery: the turn's replies
are written in the same transaction as the answer, each carries a receipt, the adapter reports it
delivered once shown, and whatever was not reported is sent again by the channel's outbox loop.

The outbox also tells a re-send from an answer. An owner who saw no acknowledgement sends the same
text again; when that text equals the last stored answer and its acknowledgement was not yet shown
when the owner wrote it (still undelivered, or delivered as a later message), it is not stored a
second time under the next question: the owner gets the acknowledgement and the current question.
"""
from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Any

import prompts
from bot.events import Command, Event, Text
from bot.replies import Option, Progress, Reply
from bot.vocabulary import SHOW
from app.turn import TurnInput, run_turn
from store.outbox import PENDING, OutboxRecord
from store.records import OwnerKey
from store.turn import TurnTx

# The process that made a turn shows its replies at once; another process takes them over only
# when this lease runs out (the maker died or failed). Summaries and exports may first wait for a
# model, so theirs is longer.
FAST_LEASE = timedelta(seconds=10)
SLOW_LEASE = timedelta(minutes=3)
SEND_LEASE = timedelta(minutes=2)  # a reply taken over by an outbox loop, while it is being shown


@dataclass(frozen=True)
class Prepared:
    """What the step decided: new replies to queue, or rows already queued being shown again."""

    replies: list[Reply]
    queued: bool = False
    answered: bool = False


@dataclass(frozen=True)
class Due:
    """A queued reply an outbox loop now holds: show it to `owner` at `address`."""

    owner: OwnerKey
    address: dict[str, Any]
    reply: Reply
    attempts: int


class Shown:
    """Receipts of items the adapter showed, kept in memory until they are written: with the owner's
    next turn (in its transaction) or by the outbox loop's next pass, whichever comes first. A turn
    then costs no extra commit; a process killed before writing them sends those replies again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sent: dict[int, str | None] = {}
        self._removed: set[int] = set()

    def add(self, receipt: int, ref: str | None, *, remove: bool = False) -> None:
        with self._lock:
            if remove:
                self._removed.add(receipt)
            else:
                self._sent[receipt] = ref

    def take(self) -> tuple[dict[int, str | None], set[int]]:
        with self._lock:
            sent, removed = self._sent, self._removed
            self._sent, self._removed = {}, set()
            return sent, removed

    def put_back(self, sent: dict[int, str | None], removed: set[int]) -> None:
        with self._lock:
            self._sent = {**sent, **self._sent}
            self._removed |= removed


def lease_of(reply: Reply) -> timedelta:
    return SLOW_LEASE if reply.type in ("summary", "export") else FAST_LEASE


def to_row(reply: Reply) -> dict[str, Any]:
    row = asdict(replace(reply, receipt=None))
    row.pop("receipt", None)
    return json.loads(json.dumps(row, default=str))  # JSON-safe: nothing in `data` may fail the turn


def from_row(record: OutboxRecord) -> Reply:
    row = dict(record.reply)
    progress = row.get("progress")
    return Reply(
        type=row["type"],
        text=row.get("text") or "",
        step=row.get("step"),
        kind=row.get("kind"),
        choices=tuple(Option(**o) for o in row.get("choices") or ()),
        progress=Progress(**progress) if isinstance(progress, dict) else None,
        journey_id=row.get("journey_id"),
        data=dict(row.get("data") or {}),
        lang=row.get("lang") or prompts.DEFAULT_LANGUAGE,
        receipt=record.id,
    )


def _same(a: str, b: str) -> bool:
    """The very same text sent again: a different spelling may be a deliberate new answer."""
    return a.strip() == b.strip()


def _after(ref: str | None, message_id: str) -> bool:
    """Whether the platform message `ref` came after the owner's message `message_id`."""
    try:
        return ref is not None and float(ref) > float(message_id)
    except ValueError:
        return False


def is_resend(last: list[OutboxRecord], event: Event) -> bool:
    if not isinstance(event, Text) or not event.message_id or not last:
        return False
    said, said_ref = last[0].said, last[0].said_ref
    if said is None or said_ref == event.message_id or not _same(said, event.text):
        return False
    return any(r.status == PENDING or _after(r.sent_ref, event.message_id) for r in last)


def step(tx: TurnTx, given: TurnInput, shown: tuple[dict[int, str | None], set[int]]) -> Prepared:
    """The turn, unless the event re-sends the last answer before its acknowledgement was seen.
    What was shown since the last write is marked first, in the same transaction."""
    tx.mark_shown(*shown)
    given.asked.clear()
    if is_resend(tx.last_outbox_turn(), given.event):
        held = tx.take_outbox(FAST_LEASE, only_due=False)
        if held:
            return Prepared([from_row(r) for r in held], queued=True)
        lang = tx.loaded.lang or prompts.DEFAULT_LANGUAGE
        note = Reply(type="info", text=prompts.say(lang, "messages", "resent"), lang=lang)
        current = run_turn(tx, TurnInput(event=Command(SHOW), lang_hint=given.lang_hint, flow=given.flow, reads=given.reads))
        return Prepared([note, *current])
    return Prepared(run_turn(tx, given), answered=tx.answered)


def queue(tx: TurnTx, prepared: Prepared, address: dict[str, Any], event: Event) -> list[Reply]:
    """After the turn's writes, in its transaction: the owner's earlier undelivered replies go
    first, then this turn's, each with its receipt. An earlier question is dropped when this turn
    asks one: it is no longer the current question, and showing it late would only mislead."""
    if prepared.queued:
        return prepared.replies
    asks = any(r.type == "question" for r in prepared.replies)
    earlier: list[Reply] = []
    superseded: list[int] = []
    for record in tx.take_outbox(FAST_LEASE, only_due=False):
        reply = from_row(record)
        if asks and reply.type == "question":
            superseded.append(record.id)
        else:
            earlier.append(reply)
    tx.drop_outbox(superseded)
    said = event.text if prepared.answered and isinstance(event, Text) and event.message_id else None
    ids = tx.enqueue(
        address,
        [to_row(r) for r in prepared.replies],
        [lease_of(r) for r in prepared.replies],
        said=said,
        said_ref=event.message_id if said is not None else None,  # type: ignore[union-attr]
    )
    return earlier + [replace(r, receipt=i) for r, i in zip(prepared.replies, ids)]
