"""Slack DMs through the outbox: a reply whose chat.postMessage failed is posted when the owner
sends the same text again (not stored under the next question), or by the outbox loop."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.slack.app import web_client
from store.models import AnswerLog, OutboxItem
from devkit.fakes.slack_api import BOT_TOKEN
from tests.slack_harness import Harness, start_harness, step_of, stop_harness


@pytest.fixture
async def h(tmp_path):
    harness, runner = await start_harness(tmp_path)
    yield harness
    await stop_harness(harness, runner)


def logged(h: Harness) -> list[tuple[str, str]]:
    with h.store.sessions() as session:
        return [(r.step, r.raw) for r in session.scalars(select(AnswerLog).order_by(AnswerLog.id))]


def rows(h: Harness) -> list[OutboxItem]:
    h.app.flush_delivered()
    with h.store.sessions() as session:
        return list(session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


async def begin(h: Harness) -> None:
    await h.signer.command("U1", "")
    await h.next_question("U1", 0)


async def test_a_failed_post_is_shown_when_the_owner_sends_the_answer_again(h: Harness) -> None:
    await begin(h)
    h.slack.fail("chat.postMessage", "internal_error", status=500, times=1)
    await h.signer.dm("U1", "Zon")
    await h.journeys.drain()
    assert h.app.view(h.owner("U1"), h.app.current_journey_id(h.owner("U1"))).answers["business.name"]["v"] == "Zon"
    assert any(r.status == "pending" for r in rows(h))
    mark = h.slack.mark()
    await h.signer.dm("U1", "Zon")  # nothing came back, so the owner sends it again
    question = await h.next_question("U1", mark)
    await h.journeys.drain()
    assert step_of(question) == "business.sector"
    assert logged(h) == [("business.name", "Zon")]
    assert {r.status for r in rows(h)} <= {"sent", "dropped"}


async def test_a_failed_post_is_sent_again_by_the_outbox_loop(h: Harness) -> None:
    await begin(h)
    h.slack.fail("chat.postMessage", "internal_error", status=500, times=1)
    await h.signer.dm("U1", "Zon")
    await h.journeys.drain()
    for row in rows(h):
        if row.status == "pending":
            h.app.retry_later(row.id, 0)  # the lease of the failed post runs out
    mark = h.slack.mark()
    h.journeys.outbox_interval = 0.1
    task = h.journeys.start_reminders(web_client({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": h.slack.api_url}), 0)
    try:
        question = await h.next_question("U1", mark)
    finally:
        task.cancel()
    assert step_of(question) == "business.sector"
    assert logged(h) == [("business.name", "Zon")]
