"""The outbox: replies stored with their answer, shown, marked delivered; a lost reply is sent again,
and an owner's re-send of an answer they saw no acknowledgement for is never stored under the next
question. Through the real python-telegram-bot against the fake Bot API, on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

import prompts
from app import Journeys, OwnerKey
from app.delivery import SEND_LEASE
from bot.events import Command, Start, Text
from bot.replies import Reply
from handlers.kit.outbox import OutboxLoop, RetryLater, Undeliverable
from store.models import AnswerLog, OutboxItem, Owner
from store.repository import Store
from devkit.fakes.telegram_api import FakeTelegram, command, visible_text
from devkit.fakes.telegram_fixtures import fake_telegram  # noqa: F401
from devkit.fakes.telegram_harness import TelegramHarness
from tests.telegram_support import database_url, harness, journeys, questions, step_of, texts  # noqa: F401
from tests.telegram_support import answers as stored_answers

USER = 4242
OWNER = OwnerKey("telegram", "", str(USER))
ADDRESS = {"chat_id": USER}


def logged(journeys: Journeys, owner: OwnerKey = OWNER) -> list[tuple[str, str]]:
    with journeys.store.sessions() as session:
        owner_id = session.scalar(select(Owner.id).where(Owner.user_id == owner.user_id, Owner.channel == owner.channel))
        rows = session.scalars(select(AnswerLog).where(AnswerLog.owner_id == owner_id).order_by(AnswerLog.id))
        return [(r.step, r.raw) for r in rows]


def outbox(journeys: Journeys, owner: OwnerKey = OWNER) -> list[OutboxItem]:
    journeys.flush_delivered()
    with journeys.store.sessions() as session:
        return list(session.scalars(select(OutboxItem).where(OutboxItem.user_id == owner.user_id).order_by(OutboxItem.id)))


async def test_a_reply_lost_to_a_500_is_shown_when_the_owner_sends_the_answer_again(harness: TelegramHarness, fake_telegram: FakeTelegram) -> None:
    await harness.send(command("start"))
    fake_telegram.fail_next("sendMessage", status=500)
    calls = await harness.send(fake_telegram.user_text("Bakkerij Bol", user_id=USER))
    assert [c.status for c in calls if c.method == "sendMessage"] == [500]  # the owner sees nothing
    assert stored_answers(harness.journeys, OWNER)["business.name"]["v"] == "Bakkerij Bol"  # but it was saved

    calls = await harness.send(fake_telegram.user_text("Bakkerij Bol", user_id=USER))  # so they send it again
    assert logged(harness.journeys) == [("business.name", "Bakkerij Bol")]  # stored once, not as the sector
    assert step_of(questions(calls)[-1]) == "business.sector"  # and they see the question after it
    await asyncio.sleep(0.3)
    assert all(row.status == "sent" for row in outbox(harness.journeys))


async def test_a_reply_lost_to_a_500_is_sent_again_by_the_outbox_loop(fake_telegram: FakeTelegram, journeys: Journeys) -> None:
    async with TelegramHarness(fake_telegram, journeys, outbox_interval=0.1) as bot:
        await bot.send(command("start"))
        fake_telegram.fail_next("sendMessage", status=500)
        await bot.send(fake_telegram.user_text("Bakkerij Bol", user_id=USER))
        for row in outbox(journeys):
            if row.status == "pending":
                journeys.retry_later(row.id, 0)  # the lease of the failed send runs out
        mark = fake_telegram.mark()
        calls = await fake_telegram.wait_for("sendMessage", lambda c: bool(c.buttons()), after=mark, timeout=5)
        await fake_telegram.wait_idle()
    sector = [c for c in fake_telegram.calls_of("sendMessage", chat_id=USER) if c.status == 200 and c.buttons() and step_of(c) == "business.sector"]
    assert len(sector) == 1 and calls
    assert {row.status for row in outbox(journeys)} == {"sent"}


async def test_the_same_answer_after_its_acknowledgement_was_seen_is_a_new_answer(harness: TelegramHarness, fake_telegram: FakeTelegram) -> None:
    """A re-send is only a re-send when the owner could not have seen the acknowledgement."""
    await harness.send(command("start"))
    await harness.send(fake_telegram.user_text("Bakkerij Bol", user_id=USER))
    calls = await harness.send(fake_telegram.user_text("webshop", user_id=USER))
    assert step_of(questions(calls)[-1]) != "business.sector"
    assert [s for s, _ in logged(harness.journeys)][:2] == ["business.name", "business.sector"]


async def test_a_reply_that_crossed_the_resend_leads_to_the_current_question(harness: TelegramHarness, fake_telegram: FakeTelegram) -> None:
    """The owner typed the answer again before the acknowledgement arrived (its message id is smaller):
    nothing is stored twice, and the owner is told so with the current question."""
    await harness.send(command("start"))
    early = fake_telegram.user_text("Bakkerij Bol", user_id=USER)
    resend = fake_telegram.user_text("Bakkerij Bol", user_id=USER)  # written before any reply came
    await harness.send(early)
    calls = await harness.send(resend)
    assert logged(harness.journeys) == [("business.name", "Bakkerij Bol")]
    shown = [visible_text(t) for t in texts(calls)]
    assert prompts.say("en", "messages", "resent") in shown
    assert step_of(questions(calls)[-1]) == "business.sector"


async def test_a_redelivered_update_shows_the_current_question_and_stores_nothing(harness: TelegramHarness, fake_telegram: FakeTelegram) -> None:
    await harness.send(command("start"))
    update = fake_telegram.user_text("Bakkerij Bol", user_id=USER)
    update["update_id"] = fake_telegram.new_update_id()
    await harness.send(dict(update))
    harness.handled.pop(update["update_id"])
    calls = await harness.send(dict(update))  # Telegram sends it again (the offset was never confirmed)
    assert logged(harness.journeys) == [("business.name", "Bakkerij Bol")]
    assert step_of(questions(calls)[-1]) == "business.sector"


async def test_forget_leaves_no_outbox_row_of_the_owner(harness: TelegramHarness, fake_telegram: FakeTelegram) -> None:
    await harness.send(command("start"))
    await harness.send(fake_telegram.user_text("Bakkerij Bol", user_id=USER))
    await harness.send(command("forget"))
    calls = await harness.send(fake_telegram.user_text("yes", user_id=USER))
    assert prompts.say("en", "messages", "forget.done") in [visible_text(t) for t in texts(calls)]
    assert outbox(harness.journeys) == []


# -- the loop, on its own -------------------------------------------------------------------------
def queued(journeys: Journeys, owner: OwnerKey, n: int) -> list[int]:
    """Turns committed by a process that died before showing anything: the receipts still pending,
    their leases run out. (Each turn supersedes the earlier turn's question, as in a live chat.)"""
    journeys.handle(owner, Start(lang_hint="en"), address={"chat_id": owner.user_id})
    for i in range(n):
        journeys.handle(owner, Command("help"), address={"chat_id": owner.user_id})
    pending = [row.id for row in outbox(journeys, owner) if row.status == "pending"]
    for receipt in pending:
        journeys.retry_later(receipt, 0)
    return pending


async def test_the_loop_keeps_each_chats_order_honours_retry_after_and_drops_what_can_never_be_sent(journeys: Journeys) -> None:
    ann, bob, cem = (OwnerKey("telegram", "", u) for u in ("1", "2", "3"))
    pending = {owner.user_id: queued(journeys, owner, 2) for owner in (ann, bob, cem)}
    assert all(len(ids) >= 2 for ids in pending.values())
    shown: list[tuple[str, int]] = []
    failures = {"2": RetryLater(30), "3": Undeliverable("blocked")}

    async def show(owner: OwnerKey, address: dict, items: list) -> int:
        if owner.user_id in failures and not shown.count((owner.user_id, -1)):
            shown.append((owner.user_id, -1))
            raise failures[owner.user_id]
        receipt = items[-1].receipt
        shown.append((owner.user_id, receipt))
        return 100 + receipt

    def rows(owner: OwnerKey) -> list[OutboxItem]:
        return [r for r in outbox(journeys, owner) if r.id in pending[owner.user_id]]

    await OutboxLoop(journeys, "telegram", show, interval=0).once()
    assert [r for u, r in shown if u == "1"] == pending["1"]  # every reply, oldest first
    assert {r.status for r in rows(ann)} == {"sent"} and all(r.sent_ref == str(100 + r.id) for r in rows(ann))
    assert [u for u, r in shown if u == "2"] == ["2"]  # one try; the later replies wait behind it
    assert {r.status for r in rows(bob)} == {"pending"}
    from store.living_repo import utcnow

    assert rows(bob)[0].due_at.replace(tzinfo=None) > (utcnow() + timedelta(seconds=25)).replace(tzinfo=None)
    assert rows(cem)[0].status == "dropped" and {r.status for r in rows(cem)[1:]} == {"sent"}


def test_several_processes_share_the_outbox_without_sending_anything_twice(pg_url: str) -> None:
    """Four stores on one PostgreSQL claim at once (FOR UPDATE SKIP LOCKED): every queued reply is
    taken by exactly one of them."""
    first = Journeys(Store.open(pg_url))
    owners = [OwnerKey("telegram", "", str(n)) for n in range(20)]
    expected = {r for owner in owners for r in queued(first, owner, 4)}
    taken: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def worker() -> None:
        journeys = Journeys(Store.open(pg_url, migrate=False))
        start.wait()
        while True:
            due = journeys.due_replies("telegram", limit=7)
            if not due:
                break
            with lock:
                taken.extend(d.reply.receipt for d in due)
            journeys.store.outbox_sent([d.reply.receipt for d in due])
        journeys.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first.close()
    assert len(expected) >= 80 and sorted(taken) == sorted(expected)  # each exactly once


def test_a_reply_held_by_a_live_sender_is_not_taken_by_another(journeys: Journeys) -> None:
    replies = queued(journeys, OWNER, 1)
    assert len(journeys.due_replies("telegram")) == len(replies)
    assert journeys.due_replies("telegram") == []  # held for SEND_LEASE
    assert SEND_LEASE >= timedelta(seconds=30)
