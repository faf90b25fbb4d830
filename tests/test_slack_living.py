"""Living journeys in Slack: the new subcommands reach the engine, reminders go to this workspace once."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from app import OwnerKey
from handlers.slack.app import web_client
from store.living import Reminder
from devkit.drive import type_lines
from devkit.fakes.slack_api import BOT_TOKEN, TEAM_ID
from devkit.scripts import B2B_EN
from tests.slack_harness import start_harness, stop_harness


async def test_todo_review_and_reminders(tmp_path) -> None:
    h, runner = await start_harness(tmp_path)
    try:
        owner = OwnerKey("slack", TEAM_ID, "U1")
        stranger = OwnerKey("slack", "T0OTHER", "U9")
        await asyncio.to_thread(type_lines, h.app, owner, B2B_EN)
        await asyncio.to_thread(type_lines, h.app, stranger, B2B_EN)
        await h.app.report(owner, h.app.current_journey_id(owner))

        mark = h.slack.mark()
        assert (await h.signer.command("U1", "todo")).status == 200
        posts = await h.slack.wait_for("chat.postMessage", since=mark)
        assert any("to-do list" in str(p.params.get("text", "")) for p in posts)

        mark = h.slack.mark()
        assert (await h.signer.command("U1", "review")).status == 200
        posts = await h.slack.wait_for("chat.postMessage", since=mark)
        assert any("still true" in str(p.params.get("text", "")).lower() for p in posts)

        with h.store.sessions.begin() as session:
            session.execute(update(Reminder).values(due_at=datetime.now(timezone.utc) - timedelta(days=1)))
        client = web_client({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": h.slack.api_url})
        loop = h.journeys.reminder_loop(client, TEAM_ID, interval=60)
        sent = await loop.once() + await loop.once()
        assert sent == 1, "one reminder for this workspace's owner, once; the other workspace's is not ours"
        await asyncio.wait_for(h.journeys.drain(), 10)
        posts = [c for c in h.slack.calls if c.method == "chat.postMessage" and "Time to review" in str(c.params.get("text", ""))]
        assert len(posts) == 1 and posts[0].params["channel"] == "DU1"
    finally:
        await stop_harness(h, runner)


async def test_survey_answers_as_a_csv_file_in_the_dm(tmp_path) -> None:
    h, runner = await start_harness(tmp_path)
    try:
        owner = OwnerKey("slack", TEAM_ID, "U1")
        await asyncio.to_thread(type_lines, h.app, owner, B2B_EN)
        data = b"Discovery,Proposal,Onboarding,Overall,Comment\n4,1,2,3,Slow proposal\n5,2,2,4,\n"
        file = h.slack.add_user_file(data, "answers.csv")
        mark = h.slack.mark()
        assert (await h.signer.dm("U1", "", files=[file])).status == 200
        posts = await h.slack.wait_for("chat.postMessage", since=mark)
        assert any("Saved 2 customer answers" in str(p.params.get("text", "")) for p in posts)
        report = await h.app.report(owner, h.app.current_journey_id(owner))
        assert {c.stage: c.responses for c in report.customer_check}["Proposal"] == 2
    finally:
        await stop_harness(h, runner)
