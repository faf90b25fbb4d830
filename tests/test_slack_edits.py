"""Edited DM messages (message_changed) through the real Bolt app against the fake Slack Web API."""
from __future__ import annotations

from typing import Any

import pytest

from devkit.fakes.slack_api import BOT_USER_ID
from tests.slack_harness import Harness, start_harness, step_of, stop_harness


@pytest.fixture
async def h(tmp_path):
    harness, runner = await start_harness(tmp_path)
    yield harness
    await stop_harness(harness, runner)


def changed(h: Harness, original: dict[str, Any], text: str, *, edited: bool = True, by_bot: bool = False) -> dict[str, Any]:
    """The message_changed event Slack sends when the message of `original` (an event payload) changes."""
    sent = original["event"]
    n = h.signer.next_id()
    message: dict[str, Any] = {"type": "message", "user": sent["user"], "text": text, "ts": sent["ts"]}
    if edited:
        message["edited"] = {"user": sent["user"], "ts": f"{1_800_000_000 + n}.000300"}
    if by_bot:
        message.update(user=BOT_USER_ID, bot_id="B0BOT")
    event = {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": sent["channel"],
        "channel_type": "im",
        "message": message,
        "previous_message": {"type": "message", "user": message["user"], "text": sent["text"], "ts": sent["ts"]},
        "ts": f"{1_800_000_000 + n}.000300",
        "event_ts": f"{1_800_000_000 + n}.000300",
    }
    return {**original, "event": event, "event_id": f"Ev{n:08d}"}


def stored(h: Harness) -> dict[str, Any]:
    owner = h.owner("U1")
    journey_id = h.app.current_journey_id(owner)
    return dict(h.app.view(owner, journey_id).answers) if journey_id else {}


async def settle(h: Harness) -> None:
    await h.journeys.drain()
    await h.slack.wait_idle()


async def test_an_edited_dm_changes_the_last_answer_and_an_older_one_gets_a_hint(h: Harness) -> None:
    await h.signer.command("U1", "")
    await h.next_question("U1", 0)
    name = h.signer.message_event("U1", "Bakery Bart")
    mark = h.slack.mark()
    assert (await h.signer.event(name)).status == 200
    question = await h.next_question("U1", mark)
    assert step_of(question) == "business.sector"

    mark = h.slack.mark()
    assert (await h.signer.event(changed(h, name, "Bakery Bert"))).status == 200
    question = await h.next_question("U1", mark)
    await settle(h)
    posts = [c.all_text() for c in h.dm_posts("U1", mark)]
    assert any("Changed “Business name” to: Bakery Bert" in t for t in posts), posts
    assert step_of(question) == "business.sector", "the owner stays at the open question"
    assert stored(h)["business.name"]["v"] == "Bakery Bert"

    # Not edits by the owner: a link preview Slack added, an edit of the bot's own message.
    mark = h.slack.mark()
    await h.signer.event(changed(h, name, "Bakery Bert", edited=False))
    await h.signer.event(changed(h, name, "Something else", edited=False))
    await h.signer.event(changed(h, name, "the bot's text", by_bot=True))
    await settle(h)
    assert not h.dm_posts("U1", mark) and stored(h)["business.name"]["v"] == "Bakery Bert"

    mark = h.slack.mark()
    await h.tap("U1", question, "bakery")
    question = await h.next_question("U1", mark)
    assert step_of(question) == "journey.goal"

    # The name is no longer the last answer: a hint, nothing stored, and never the answer to the open question.
    mark = h.slack.mark()
    await h.signer.event(changed(h, name, "leads"))
    await settle(h)
    posts = [c.all_text() for c in h.dm_posts("U1", mark)]
    assert len(posts) == 1 and "/edit" in posts[0], posts
    answers = stored(h)
    assert answers["business.name"]["v"] == "Bakery Bert" and "journey.goal" not in answers
