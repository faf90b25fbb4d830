"""Slack's HTTP contract: signed requests only, checked before the body is parsed; malformed ones refused
with a 4xx, never a 500; acknowledgement within 3 seconds, retries recorded once."""
from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
import pytest
from sqlalchemy import func, select

from store.models import AnswerLog, ProcessedEvent
from devkit.fakes.slack_api import SIGNING_SECRET, sign
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


async def test_malformed_requests_get_4xx_never_500_and_no_traceback(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    """Malformed bodies and headers are refused before any parsing where the signature allows it: 401
    unsigned, 400 signed but unreadable, 413 over 1 MB; never a 500, never an ERROR in the logs."""
    caplog.set_level(logging.DEBUG)
    now = str(int(time.time()))
    form, as_json = "application/x-www-form-urlencoded", "application/json"

    async def raw(body: bytes, content_type: str, headers: dict[str, str]) -> int:
        async with aiohttp.ClientSession() as http:
            async with http.post(h.url, data=body, headers={"Content-Type": content_type, **headers}) as resp:
                return resp.status

    def signed(body: bytes, timestamp: str = now) -> dict[str, str]:
        return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": sign(SIGNING_SECRET, timestamp, body)}

    bodies = [
        (b"payload=notjson", form),
        (b"payload=%5B1%2C2%5D", form),  # payload=[1,2]
        (b"[1, 2, 3]", as_json),
        (b'"just a string"', as_json),
        (b'{"type": "event_callback", "event"', as_json),
        (b"\xff\xfe\x00{", as_json),
        (b'{"type": "event_callback", "event": "x"}', as_json),
        (b'{"type": "block_actions", "actions": [1], "user": {"id": "U1"}}', as_json),
    ]
    cases: list[tuple[str, bytes, str, dict[str, str], int]] = []
    for body, kind in bodies:
        cases += [
            ("signed", body, kind, signed(body), 400),
            ("unsigned", body, kind, {}, 401),
            ("wrong signature", body, kind, signed(body + b" "), 401),
            ("timestamp not a number", body, kind, {**signed(body), "X-Slack-Request-Timestamp": "12:00"}, 401),
            ("timestamp signed but not a number", body, kind, signed(body, "soon"), 401),
            ("signature only", body, kind, {"X-Slack-Signature": signed(body)["X-Slack-Signature"]}, 401),
        ]
    huge = b"payload=" + b"x" * 3_000_000
    cases += [
        ("huge, unsigned", huge, form, {}, 401),
        ("huge, signed", huge, form, signed(huge), 413),
    ]
    got = [(name, body[:30], await raw(body, kind, headers)) for name, body, kind, headers, _ in cases]
    assert [g[2] for g in got] == [c[4] for c in cases], [g for g, c in zip(got, cases) if g[2] != c[4]]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, [f"{r.name}: {r.getMessage()}" for r in errors]
    await asyncio.sleep(0.2)
    assert not h.slack.calls_of("chat.postMessage", "conversations.open")
    assert (await h.signer.command("U1", "help")).status == 200  # and real requests still work
