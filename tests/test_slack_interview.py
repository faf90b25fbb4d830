"""A whole interview in a Slack DM: messages and buttons, through the real Bolt app, ending in the uploads."""
from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select

from store.models import AnswerLog, Journey
from devkit.fakes.slack_api import buttons_of
from tests.slack_harness import Harness, start_harness, step_of, stop_harness

# What the owner does per step: ("type", text) or ("tap", option value, [more taps...]).
ANSWERS: dict[str, tuple] = {
    "business.name": ("type", "Bakery <Zon> & Co"),
    "business.sector": ("tap", "bakery"),
    "journey.goal": ("tap", "repeat"),
    "journey.process": ("type", "a first cake order for a party"),
    "concept.promise": ("type", "Handmade cakes, delivered on the day"),
    "concept.sacrifice": ("tap", "__skip__"),
    "persona.name": ("type", "Party Petra"),
    "persona.role": ("type", "Parent planning a birthday"),
    "persona.goals": ("type", "A cake the kids love, no stress"),
    "persona.pains": ("type", "Unclear prices, late delivery"),
    "persona.behaviour": ("type", "Orders on her phone in the evening"),
    "persona.channels": ("tap", "instagram", "__done__"),
    "persona.trust": ("type", "Photos of real cakes, reviews"),
    "persona.trigger": ("type", "A birthday two weeks away"),
    "persona.source": ("tap", "interviews", "__done__"),
    "journey.stages": ("type", "Awareness, Purchase"),
}
TOUCHPOINTS = {"awareness": "Instagram post", "purchase": "Checkout"}
FEELINGS = {"awareness": "4", "purchase": "2"}


def plan_for(step: str) -> tuple:
    """The owner's answer to `step`; a step this test does not know gets "I don't know"."""
    if step in ANSWERS:
        return ANSWERS[step]
    parts = step.split(".")
    if parts[0] != "stage" or len(parts) < 3 or parts[1] not in TOUCHPOINTS:
        return ("tap", "__dont_know__")
    stage, field = parts[1], parts[-1]
    if field == "touchpoints":
        return ("type", TOUCHPOINTS[stage])
    if field == "channel":
        return ("tap", "social")
    if field == "feeling":
        return ("tap", FEELINGS[stage])
    if field == "pain":
        return ("type", "Waiting for an answer")
    if field == "team":
        return ("tap", "marketing")
    if field == "delights":
        return ("tap", "__skip__")
    return ("tap", "__dont_know__")


async def next_question_or_end(h: Harness, since: int) -> "object | None":
    """The next question in U1's DM, or None once the interview ended (the summary files arrive)."""
    for _ in range(200):
        questions = [c for c in h.dm_posts("U1", since) if c.buttons()]
        if questions:
            return questions[-1]
        if h.slack.since(since, "files.completeUploadExternal"):
            return None
        await asyncio.sleep(0.05)
    raise AssertionError("neither a question nor the summary arrived")


@pytest.fixture
async def h(tmp_path):
    harness, runner = await start_harness(tmp_path)
    yield harness
    await stop_harness(harness, runner)


async def test_whole_interview_by_messages_and_buttons_ends_in_summary_and_files(h: Harness) -> None:
    sent = await h.signer.command("U1", "")
    assert sent.status == 200
    question = await h.next_question("U1", 0)
    seen: list[str] = []
    for _ in range(120):
        step = step_of(question)
        seen.append(step)
        action = plan_for(step)
        mark = h.slack.mark()
        if action[0] == "type":
            assert (await h.signer.dm("U1", action[1])).status == 200
        else:
            for value in action[1:]:
                tap_mark = h.slack.mark()
                assert (await h.tap("U1", question, value)).status == 200
                # the tapped question loses its buttons and shows the answer
                [update] = await h.slack.wait_for("chat.update", since=tap_mark)
                assert not buttons_of(h.slack.message(update.channel, update.params["ts"])["blocks"])
                assert "→" in update.all_text()
                if value != action[-1]:
                    question = await h.next_question("U1", tap_mark)
                mark = tap_mark  # the next question comes after the last tap
        nxt = await next_question_or_end(h, mark)
        if nxt is None:
            break
        question = nxt
    else:
        raise AssertionError(f"the interview did not end: {seen}")
    assert "stage.purchase.tp1.feeling" in seen and "persona.channels" in seen

    # The summary, then the markdown file and the emotion curve, in the DM.
    await h.slack.wait_for("files.completeUploadExternal", count=2, timeout=20)
    uploads = h.slack.completed_uploads("DU1")
    names = [u.filename for u in uploads]
    assert len(names) == 2 and "emotion-curve.png" in names and any(n.endswith(".md") for n in names)
    markdown = next(u for u in uploads if u.filename.endswith(".md")).data.decode()
    assert "Party Petra" in markdown and "Checkout" in markdown
    png = next(u for u in uploads if u.filename.endswith(".png")).data
    assert png.startswith(b"\x89PNG")
    summary = [c for c in h.dm_posts("U1") if any(b.get("type") == "header" for b in c.blocks)]
    assert summary, "no Block Kit summary was posted"
    mrkdwn = [summary[0].text] + [
        b["text"]["text"] for c in summary for b in c.blocks if b.get("type") == "section"
    ]
    assert any("Bakery &lt;Zon&gt; &amp; Co" in t for t in mrkdwn)  # owner text escaped for mrkdwn
    assert not any("<Zon>" in t for t in mrkdwn)
    # the summary comes before the files
    first_summary = h.slack.calls.index(summary[0])
    first_upload = min(i for i, c in enumerate(h.slack.calls) if c.method == "files.getUploadURLExternal")
    assert first_summary < first_upload

    # every step recorded exactly once; the tapped multi-choice kept both taps' result
    with h.store.sessions() as session:
        journey = session.scalars(select(Journey)).one()
        assert journey.complete
        assert journey.answers["persona.channels"]["v"] == ["instagram"]
        assert journey.answers["stage.purchase.tp1.feeling"]["v"] == 2
        assert journey.answers["business.name"]["v"] == "Bakery <Zon> & Co"  # unescaped before the engine
        steps = session.scalars(select(AnswerLog.step)).all()
        assert len(steps) == len(set(steps))


async def test_double_tap_answers_once(h: Harness) -> None:
    await h.signer.command("U1", "")
    question = await h.next_question("U1", 0)
    await h.signer.dm("U1", "Zon")
    await h.slack.wait_for("chat.postMessage", count=2, predicate=lambda c: bool(c.buttons()))
    question = h.last_question("U1")
    assert step_of(question) == "business.sector"
    mark = h.slack.mark()
    first = await h.tap("U1", question, "bakery")
    second = await h.tap("U1", question, "webshop")  # a second tap on the same message, before it was updated
    assert first.status == second.status == 200
    await h.next_question("U1", mark)
    await h.journeys.drain()
    await h.slack.wait_idle()
    with h.store.sessions() as session:
        logged = session.scalars(select(AnswerLog).where(AnswerLog.step == "business.sector")).all()
        assert [row.value for row in logged] == ["bakery"]
    # exactly one next question, and no "already answered" noise
    new_questions = [c for c in h.dm_posts("U1", mark) if c.buttons()]
    assert len(new_questions) == 1 and step_of(new_questions[0]) == "journey.goal"
