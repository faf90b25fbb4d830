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


async def test_refused_files_are_explained_and_never_fetched_from_elsewhere(tmp_path) -> None:
    h, runner = await start_harness(tmp_path)
    try:
        owner = OwnerKey("slack", TEAM_ID, "U1")
        await asyncio.to_thread(type_lines, h.app, owner, B2B_EN)
        good = h.slack.add_user_file(b"4,1,2,3,ok\n", "answers.csv")
        big = h.slack.add_user_file(b"4,1,2,3," + b"x" * 1_100_000 + b"\n", "big.csv")
        cases = [
            ({**good, "name": "photo.png", "mimetype": "image/png", "filetype": "png"}, "only read customers' survey answers as a CSV"),
            ({**good, "size": 5_000_000}, "too large"),  # declared too large: not downloaded at all
            ({**big, "size": 10}, "too large"),  # declared small, sends more: reading stops at the limit
            (h.slack.add_user_file(b"\xff\xfe\x00\xd8 4,1", "latin.csv"), "can't read that file"),
            ({**good, "url_private_download": "https://files.example.com/answers.csv"}, "only read files shared here in Slack"),
        ]
        for file, expected in cases:
            mark = h.slack.mark()
            assert (await h.signer.dm("U1", "", files=[file])).status == 200
            posts = await h.slack.wait_for("chat.postMessage", since=mark)
            assert any(expected in p.all_text() for p in posts), (file["name"], [p.all_text() for p in posts])
        await h.journeys.drain()
        report = await h.app.report(owner, h.app.current_journey_id(owner))
        assert report.customer_check == [] or all(c.responses == 0 for c in report.customer_check)
    finally:
        await stop_harness(h, runner)


async def test_shutdown_finishes_the_work_already_acknowledged(tmp_path) -> None:
    """SIGTERM stops the HTTP server: what Slack was told "ok" about is still answered."""
    from aiohttp import web

    from handlers.slack.app import with_lifecycle

    h, runner = await start_harness(tmp_path)
    released = asyncio.Event()
    try:
        real = h.journeys.locale

        async def slow_locale(client, owner):
            await released.wait()
            return await real(client, owner)

        h.journeys.locale = slow_locale  # type: ignore[method-assign]
        assert (await h.signer.command("U1", "")).status == 200
        assert not h.slack.calls_of("chat.postMessage")
        web_app = with_lifecycle(web.Application(), None, h.journeys, interval=0)  # type: ignore[arg-type]
        web_app.freeze()
        shutdown = asyncio.ensure_future(web_app.shutdown())
        await asyncio.sleep(0.3)
        assert not shutdown.done(), "shutdown must wait for the accepted work"
        released.set()
        await asyncio.wait_for(shutdown, 10)
        assert h.dm_posts("U1"), "the first question was posted before the shutdown finished"
    finally:
        released.set()
        await stop_harness(h, runner)
