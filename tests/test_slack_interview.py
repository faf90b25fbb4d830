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
    "journey.team": ("tap", "per_stage"),
    "journey.evidence": ("tap", "interviews", "__done__"),
    "journey.delights": ("tap", "__skip__"),
}
TOUCHPOINTS = {"awareness": "Instagram post", "purchase": "Checkout"}
# Awareness is rated with the touchpoint's select (the message changes in place) and Done; Purchase
# by typing the line of ratings. A 2 is low, so what goes wrong there is asked.
RATINGS = {"awareness": ("tap", "rate:1=4", "__done__"), "purchase": ("type", "2")}


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
    if field == "ratings":
        return RATINGS[stage]
    if field == "pains":
        return ("type", "Waiting for an answer")
    if field == "team" and len(parts) == 3:  # the stage's team (the journey's team differs per stage)
        return ("tap", "marketing")
    if field == "channel":
        return ("tap", "social")
    return ("tap", "__dont_know__")


def uploads_since(h: Harness, since: int) -> list:
    """The files uploaded after `since`, in order."""
    out = []
    for call in h.slack.since(since, "files.completeUploadExternal"):
        files = call.params.get("files")
        files = json.loads(files) if isinstance(files, str) else files or []
        out += [h.slack.uploads[f["id"]] for f in files if f["id"] in h.slack.uploads]
    return out


async def next_question_or_end(h: Harness, since: int) -> "object | None":
    """The next question in U1's DM, or None once the interview ended (the summary's markdown file
    arrives; the map's picture alone does not end it)."""
    for _ in range(200):
        questions = [c for c in h.dm_posts("U1", since) if c.buttons()]
        if questions:
            return questions[-1]
        if any(u.filename.endswith(".md") for u in uploads_since(h, since)):
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
                if value.startswith("rate:"):
                    # a rating changes the question in place: no new message, the select shows the choice
                    assert (await h.select("U1", question, value)).status == 200
                    ts = question.response["ts"]
                    await h.slack.wait_for("chat.update", since=tap_mark, predicate=lambda c: c.params.get("ts") == ts)
                    await h.slack.wait_idle(quiet=0.2)
                    assert not h.dm_posts("U1", tap_mark), "a rating updates the question; nothing new is posted"
                    assert value in json.dumps(h.slack.message(question.channel, ts)["blocks"])
                    continue
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
    assert {"persona.channels", "journey.team", "stage.awareness.ratings", "stage.purchase.ratings", "stage.purchase.pains",
            "stage.purchase.team", "journey.evidence", "journey.review"} <= set(seen), seen
    assert "stage.awareness.pains" not in seen, "a stage rated 4 or higher is not asked what goes wrong"
    assert not [s for s in seen if ".tp" in s and s.endswith((".feeling", ".pain", ".team"))], seen
    # The map: once every stage is rated, a text and the emotion curve, before the journey's last questions.
    await h.slack.wait_for("files.completeUploadExternal", count=3, timeout=20)
    calls = h.slack.calls
    uploaded = [i for i, c in enumerate(calls) if c.method == "files.completeUploadExternal"]
    evidence = next(i for i, c in enumerate(calls) if c.method == "chat.postMessage" and c.buttons() and step_of(c) == "journey.evidence")
    told = [i for i, c in enumerate(calls) if c.method == "chat.postMessage" and "Every stage has a feeling now" in c.all_text()]
    assert len(told) == 1 and told[0] < uploaded[0] < evidence, ("the map's text and picture come before the last questions", told, uploaded, evidence)
    assert [u.filename for u in uploads_since(h, uploaded[0])][:1] == ["emotion-curve.png"]

    # The summary, then the markdown file and the one-page map picture, in the DM (the emotion curve
    # came earlier, once every stage was rated).
    uploads = h.slack.completed_uploads("DU1")
    names = [u.filename for u in uploads]
    assert len(names) == 3 and names.count("emotion-curve.png") == 1 and names[-1].endswith("-map.png") and any(n.endswith(".md") for n in names), names
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
    # the summary comes before its files (the map's picture came before the last questions)
    first_summary = h.slack.calls.index(summary[0])
    first_upload = min(i for i, c in enumerate(h.slack.calls) if c.method == "files.getUploadURLExternal" and i > evidence)
    assert first_summary < first_upload

    # every step recorded exactly once; the tapped multi-choice kept both taps' result
    with h.store.sessions() as session:
        journey = session.scalars(select(Journey)).one()
        assert journey.complete
        assert journey.answers["persona.channels"]["v"] == ["instagram"]
        assert journey.answers["stage.awareness.tp1.feeling"]["v"] == 4  # chosen in the select
        assert journey.answers["stage.purchase.tp1.feeling"]["v"] == 2  # typed
        assert journey.answers["stage.purchase.tp1.pain"]["v"] == "Waiting for an answer"
        assert journey.answers["stage.purchase.tp1.team"]["v"] == "marketing"
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
