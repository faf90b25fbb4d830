"""Slack's HTTP contract: signed requests only, acknowledgement within 3 seconds, retries recorded once."""
from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import func, select

from store.models import AnswerLog, ProcessedEvent
from tests.slack_harness import Harness, start_harness, step_of, stop_harness


@pytest.fixture
async def h(tmp_path):
    harness, runner = await start_harness(tmp_path)
    yield harness
    await stop_harness(harness, runner)


async def answered_name(h: Harness) -> None:
    """U1 starts and answers the first question, so a summary is possible."""
    await h.signer.command("U1", "")
    await h.next_question("U1", 0)
    mark = h.slack.mark()
    await h.signer.dm("U1", "Zon")
    await h.next_question("U1", mark)


async def test_bad_signature_is_refused(h: Harness) -> None:
    sent = await h.signer.command("U1", "", secret="not-the-secret")
    assert sent.status == 401
    sent = await h.signer.dm("U1", "hello", secret="not-the-secret")
    assert sent.status == 401
    await asyncio.sleep(0.3)
    assert not h.slack.calls_of("chat.postMessage", "conversations.open")


async def test_timestamp_older_than_five_minutes_is_refused(h: Harness) -> None:
    old = int(time.time()) - 6 * 60
    sent = await h.signer.command("U1", "", timestamp=old)  # correctly signed, but stale: a replay
    assert sent.status == 401
    sent = await h.signer.dm("U1", "hello", timestamp=old)
    assert sent.status == 401
    await asyncio.sleep(0.3)
    assert not h.slack.calls_of("chat.postMessage", "conversations.open")
    fresh = await h.signer.command("U1", "help")
    assert fresh.status == 200


async def test_slash_command_is_acknowledged_at_once_while_the_summary_is_slow(h: Harness) -> None:
    await answered_name(h)
    release = asyncio.Event()
    started = asyncio.Event()
    real = h.app.reports.report

    async def slow_report(view):  # the LLM (or a busy database) taking far longer than Slack waits
        started.set()
        await asyncio.wait_for(release.wait(), 30)
        return await real(view)

    h.app.reports.report = slow_report  # type: ignore[method-assign]
    h.slack.delay("users.info", 2.5)  # a slow Slack API on top
    mark = h.slack.mark()
    sent = await h.signer.command("U1", "summary")
    assert sent.status == 200
    assert sent.elapsed < 1.0, f"acknowledged after {sent.elapsed:.2f}s"
    await asyncio.wait_for(started.wait(), 10)  # the work goes on after the acknowledgement...
    assert not h.slack.since(mark, "files.completeUploadExternal")
    await asyncio.sleep(3.2)  # ...for longer than Slack's 3 seconds
    release.set()
    await h.slack.wait_for("files.completeUploadExternal", count=2, since=mark, timeout=20)
    summaries = [c for c in h.slack.since(mark, "chat.postMessage") if any(b.get("type") == "header" for b in c.blocks)]
    assert summaries and summaries[0].channel == "DU1"


async def test_every_subcommand_acknowledges_fast(h: Harness) -> None:
    h.slack.delay("conversations.open", 4)
    h.slack.delay("users.info", 4)
    for text in ("", "new", "status", "list", "export", "language nl", "help", "share #x", "contribute", "whatever"):
        sent = await h.signer.command("U2", text, channel_id="C0GENERAL")
        assert sent.status == 200 and sent.elapsed < 1.0, (text, sent.elapsed)


async def test_unknown_subcommand_answers_with_help(h: Harness) -> None:
    sent = await h.signer.command("U1", "fly-to-the-moon", response_url=h.slack.response_url("help1"))
    assert sent.status == 200
    [reply] = await h.slack.wait_for("response_url")
    assert "/journey share" in reply.all_text() and reply.params["response_type"] == "ephemeral"


async def test_event_retry_is_recorded_once(h: Harness) -> None:
    await h.signer.command("U1", "")
    await h.next_question("U1", 0)
    payload = h.signer.message_event("U1", "Bakery Zon", event_id="Ev0RETRY1")
    mark = h.slack.mark()
    first = await h.signer.event(payload)
    retry1 = await h.signer.event(payload, retry_num=1)  # Slack thought the first delivery failed
    retry2 = await h.signer.event(payload, retry_num=2)
    assert first.status == retry1.status == retry2.status == 200
    await h.next_question("U1", mark)
    await h.journeys.drain()
    await h.slack.wait_idle()
    with h.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AnswerLog).where(AnswerLog.step == "business.name")) == 1
        assert session.get(ProcessedEvent, "slack:Ev0RETRY1") is not None
    questions = [c for c in h.dm_posts("U1", mark) if c.buttons()]
    assert [step_of(q) for q in questions] == ["business.sector"]


async def test_bot_messages_and_edits_are_ignored(h: Harness) -> None:
    await h.signer.command("U1", "")
    await h.next_question("U1", 0)
    await h.journeys.drain()
    mark = h.slack.mark()
    await h.signer.dm("U1", "echo of myself", bot_id="B0BOT")
    await h.signer.dm("U1", "edited", subtype="message_changed")
    await h.signer.dm("U1", "in a channel", channel="C0GENERAL")
    await h.journeys.drain()
    await h.slack.wait_idle(quiet=0.2)
    assert not h.slack.since(mark, "chat.postMessage")
    with h.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AnswerLog)) == 0


async def test_a_first_dm_without_the_command_starts_in_the_users_language(h: Harness) -> None:
    h.slack.add_user("U3", locale="nl-NL")
    await h.signer.dm("U3", "hoi")
    question = await h.next_question("U3", 0)
    assert step_of(question) == "business.name"
    assert "Weet ik niet" in [b["text"]["text"] for b in question.buttons()] or "weet" in question.all_text().lower()


async def test_quick_messages_are_recorded_in_order(h: Harness) -> None:
    await h.signer.command("U1", "")
    await h.next_question("U1", 0)
    await h.journeys.drain()
    real_locale = h.journeys.locale
    calls = []

    async def slow_first_locale(client, owner):  # the first message's work stalls on a slow Slack call
        calls.append(owner)
        if len(calls) == 1:
            await asyncio.sleep(0.5)
        return await real_locale(client, owner)

    h.journeys.locale = slow_first_locale  # type: ignore[method-assign]
    sends = [h.signer.dm("U1", "Zon"), h.signer.dm("U1", "bakery")]
    for coro in sends:
        assert (await coro).status == 200
    await h.journeys.drain()
    with h.store.sessions() as session:
        rows = session.execute(select(AnswerLog.step, AnswerLog.raw).order_by(AnswerLog.id)).all()
    assert [tuple(r) for r in rows] == [("business.name", "Zon"), ("business.sector", "bakery")]


async def test_a_command_from_a_channel_points_to_the_dm(h: Harness) -> None:
    await h.signer.command("U1", "", channel_id="C0GENERAL", response_url=h.slack.response_url("go"))
    [note] = await h.slack.wait_for("response_url")
    assert "direct message" in note.all_text() and note.params["response_type"] == "ephemeral"
    question = await h.next_question("U1", 0)
    assert question.channel == "DU1"
    assert h.slack.calls_of("conversations.open")[0].params["users"] == "U1"


async def test_rate_limited_posts_are_retried(h: Harness) -> None:
    h.slack.rate_limit("chat.postMessage", times=1, retry_after=1)
    await h.signer.command("U1", "")
    [question] = await h.slack.wait_for(
        "chat.postMessage", predicate=lambda c: bool(c.response and c.response.get("ok") and c.buttons())
    )
    assert step_of(question) == "business.name"
    refused = [c for c in h.slack.calls_of("chat.postMessage") if c.response and c.response.get("error") == "ratelimited"]
    assert len(refused) == 1
