"""Team journeys: share into a channel, teammates score and add touchpoints, the summary shows disagreement.
Nobody outside the workspace, and nobody outside the shared channel, reads or changes a journey."""
from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select

from bot.events import Choice, Start, Text
from store.models import Owner
from store.sharing import Contribution, ShareDenied
from devkit.fakes.slack_api import Call
from tests.slack_harness import Harness, start_harness, stop_harness
from tests.test_slack_interview import plan_for

TEAM_CHANNEL = "C0TEAM"
OTHER_TEAM = "T0OTHER"


@pytest.fixture
async def h(tmp_path):
    harness, runner = await start_harness(tmp_path)
    harness.slack.set_members(TEAM_CHANNEL, ["U1", "U2", "U0BOT"])
    yield harness
    await stop_harness(harness, runner)


def interview(h: Harness, user_id: str = "U1") -> None:
    """The owner's whole interview straight through the service (the DM flow has its own test)."""
    owner = h.owner(user_id)
    replies = h.service.handle(owner, Start(lang_hint="en"))
    for _ in range(80):
        question = next((r for r in reversed(replies) if r.type == "question"), None)
        if question is None:
            return
        action = plan_for(question.step)
        if action[0] == "type":
            replies = h.service.handle(owner, Text(action[1]))
        else:
            for value in action[1:]:
                replies = h.service.handle(owner, Choice(value, question.step))
    raise AssertionError("interview did not end")


def button(call: Call, label_part: str) -> dict:
    for b in call.buttons():
        if label_part in b["text"]["text"]:
            return b
    raise AssertionError(f"no button with {label_part!r}: {[b['text']['text'] for b in call.buttons()]}")


async def reply_to(h: Harness, name: str) -> Call:
    [call] = await h.slack.wait_for("response_url", predicate=lambda c: c.params["response_url"] == name)
    return call


async def tap_ephemeral(h: Harness, user_id: str, b: dict, name: str, *, team_id: str | None = None) -> Call:
    sent = await h.signer.action(
        user_id, b, channel=TEAM_CHANNEL, container_type="ephemeral", response_url=h.slack.response_url(name), team_id=team_id
    )
    assert sent.status == 200
    return await reply_to(h, name)


async def share(h: Harness) -> None:
    interview(h)
    sent = await h.signer.command("U1", f"share <#{TEAM_CHANNEL}|team>", response_url=h.slack.response_url("share"))
    assert sent.status == 200
    done = await reply_to(h, "share")
    assert f"<#{TEAM_CHANNEL}>" in done.all_text()
    [announce] = await h.slack.wait_for("chat.postMessage", predicate=lambda c: c.channel == TEAM_CHANNEL)
    assert "/journey contribute" in announce.all_text() and "<@U1>" in announce.all_text()


async def test_teammate_scores_and_adds_touchpoints_and_the_summary_shows_disagreement(h: Harness) -> None:
    await share(h)
    # U2, a member of the shared channel, owns the purchase stage
    await h.signer.command("U2", "contribute", channel_id=TEAM_CHANNEL, response_url=h.slack.response_url("c1"))
    stages = await reply_to(h, "c1")
    assert stages.params["response_type"] == "ephemeral"
    touchpoints = await tap_ephemeral(h, "U2", button(stages, "Purchase"), "c2")
    assert "Checkout (Marketing)" in [b["text"]["text"] for b in touchpoints.buttons()]
    scale = await tap_ephemeral(h, "U2", button(touchpoints, "Checkout"), "c3")
    assert len(scale.buttons()) == 5
    thanks = await tap_ephemeral(h, "U2", button(scale, "5"), "c4")
    assert thanks.params["replace_original"] is True and "5" in thanks.all_text()
    # ...and adds a touchpoint the owner forgot, scored 3
    await h.signer.command("U2", "add 1 Flyer at school", channel_id=TEAM_CHANNEL, response_url=h.slack.response_url("c5"))
    added = await reply_to(h, "c5")
    await tap_ephemeral(h, "U2", button(added, "3"), "c6")

    # The owner's summary shows the teammate's score next to theirs (2 vs 5: a disagreement)
    mark = h.slack.mark()
    await h.signer.command("U1", "summary")
    await h.slack.wait_for("files.completeUploadExternal", count=2, since=mark, timeout=20)
    text = "\n".join(c.all_text() for c in h.slack.since(mark, "chat.postMessage") if c.channel == "DU1")
    assert "Team scores" in text
    assert "Purchase · Checkout" in text and "disagree" in text and "<@U2> 5" in text and "you 2" in text
    assert "Flyer at school" in text
    with h.service.repo.sessions() as session:
        rows = session.scalars(select(Contribution).order_by(Contribution.id)).all()
        assert [(r.user_id, r.touchpoint, r.score, r.added) for r in rows] == [
            ("U2", "Checkout", 5, False),
            ("U2", "Flyer at school", 3, True),
        ]
        # the owner's own answers are untouched
    view = h.service.view(h.owner("U1"), 1)
    assert [tp.name for tp in view.stages[0].touchpoints] == ["Instagram post"]
    # the markdown file carries the team's view too
    markdown = h.service.export(h.owner("U1"), 1).markdown
    assert "## Team scores" in markdown and "| Purchase | Checkout | 2 | 5 | ⚠️ differ by 2 or more |" in markdown
    assert "Awareness: Flyer at school" in markdown


async def test_teammate_rescoring_and_double_taps_keep_one_score(h: Harness) -> None:
    await share(h)
    await h.signer.command("U2", "contribute", channel_id=TEAM_CHANNEL, response_url=h.slack.response_url("c1"))
    stages = await reply_to(h, "c1")
    touchpoints = await tap_ephemeral(h, "U2", button(stages, "Awareness"), "c2")
    scale = await tap_ephemeral(h, "U2", button(touchpoints, "Instagram"), "c3")
    await tap_ephemeral(h, "U2", button(scale, "1"), "c4")
    await tap_ephemeral(h, "U2", button(scale, "2"), "c5")
    with h.service.repo.sessions() as session:
        rows = session.scalars(select(Contribution)).all()
        assert [(r.touchpoint, r.score) for r in rows] == [("Instagram post", 2)]


async def test_only_members_of_the_shared_channel_contribute(h: Harness) -> None:
    await share(h)
    await h.signer.command("U2", "contribute", channel_id=TEAM_CHANNEL, response_url=h.slack.response_url("c1"))
    stages = await reply_to(h, "c1")
    touchpoints = await tap_ephemeral(h, "U2", button(stages, "Purchase"), "c2")
    scale = await tap_ephemeral(h, "U2", button(touchpoints, "Checkout"), "c3")
    # U3 is in the workspace but not in the channel
    await h.signer.command("U3", "contribute", channel_id=TEAM_CHANNEL, response_url=h.slack.response_url("x1"))
    refused = await reply_to(h, "x1")
    assert not refused.buttons() and "Only members" in refused.all_text()
    forged = await tap_ephemeral(h, "U3", button(scale, "1"), "x2")  # a button copied from U2's message
    assert not forged.buttons()
    # a journey not shared with a channel stays invisible there
    await h.signer.command("U2", "contribute", channel_id="C0ELSEWHERE", response_url=h.slack.response_url("x3"))
    assert "No journey has been shared" in (await reply_to(h, "x3")).all_text()
    await h.journeys.drain()
    with h.service.repo.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Contribution)) == 0
    # only the owner can share: U2 has no journey of their own
    await h.signer.command("U2", f"share <#{TEAM_CHANNEL}|team>", response_url=h.slack.response_url("x4"))
    assert "no journey to share" in (await reply_to(h, "x4")).all_text()


async def test_a_user_from_another_workspace_gets_nothing(h: Harness) -> None:
    await share(h)
    await h.signer.command("U2", "contribute", channel_id=TEAM_CHANNEL, response_url=h.slack.response_url("c1"))
    stages = await reply_to(h, "c1")
    touchpoints = await tap_ephemeral(h, "U2", button(stages, "Purchase"), "c2")
    scale = await tap_ephemeral(h, "U2", button(touchpoints, "Checkout"), "c3")
    await h.journeys.drain()
    mark = h.slack.mark()

    # Same channel id, same user id even: another workspace is another world.
    sends = [
        await h.signer.command("U1", "summary", team_id=OTHER_TEAM, response_url=h.slack.response_url("o1")),
        await h.signer.command("U1", "export", team_id=OTHER_TEAM, response_url=h.slack.response_url("o2")),
        await h.signer.command("U9", "contribute", channel_id=TEAM_CHANNEL, team_id=OTHER_TEAM, response_url=h.slack.response_url("o3")),
        await h.signer.command("U9", "add 1 Spy", channel_id=TEAM_CHANNEL, team_id=OTHER_TEAM, response_url=h.slack.response_url("o4")),
        await h.signer.action("U9", button(scale, "1"), channel=TEAM_CHANNEL, container_type="ephemeral", team_id=OTHER_TEAM, response_url=h.slack.response_url("o5")),
        await h.signer.dm("U1", "hello", team_id=OTHER_TEAM),
    ]
    assert all(s.status == 200 and s.body == "" for s in sends)
    await asyncio.sleep(0.5)
    await h.journeys.drain()
    assert h.slack.since(mark) == [], [c.method for c in h.slack.since(mark)]
    with h.service.repo.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Contribution)) == 0
        assert session.scalar(select(func.count()).select_from(Owner).where(Owner.workspace == OTHER_TEAM)) == 0


def test_the_sharing_store_itself_refuses_other_workspaces(tmp_path) -> None:
    """Independent of the adapter's workspace check (e.g. a multi-workspace install)."""
    from handlers.service import JourneyService, OwnerKey
    from store.sharing import Sharing

    service = JourneyService.from_env({"DATABASE_URL": f"sqlite:///{tmp_path}/s.db", "JOURNEYBOT_LLM": "off"})
    try:
        owner = OwnerKey("slack", "T1", "U1")
        service.handle(owner, Start(lang_hint="en"))
        service.handle(owner, Text("Zon"))
        journey_id = service.repo.current_journey_id(owner)
        sharing = Sharing(service.repo.engine)
        info, _ = sharing.share("slack", "T1", "U1", journey_id, "C1")
        with pytest.raises(ShareDenied):
            sharing.share("slack", "T2", "U1", journey_id, "C1")  # same user id, other workspace
        with pytest.raises(ShareDenied):
            sharing.share("slack", "T1", "U2", journey_id, "C1")  # not the owner
        with pytest.raises(ShareDenied):
            sharing.authorize(info.id, "slack", "T2", "C1")
        with pytest.raises(ShareDenied):
            sharing.authorize(info.id, "slack", "T1", "C2")  # shared with C1, not C2
        assert sharing.shares_in("slack", "T2", "C1") == []
        assert sharing.authorize(info.id, "slack", "T1", "C1").journey_id == journey_id
        # forgetting the owner removes shares and contributions with the journey
        sharing.contribute(info, "U2", stage_slug="s", stage_name="S", touchpoint="T", score=3)
        service.forget(owner)
        assert sharing.contributions(journey_id) == [] and sharing.shares_in("slack", "T1", "C1") == []
    finally:
        service.close()


def test_the_sharing_migration_matches_the_models(tmp_path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import store.sharing  # noqa: F401
    from store.models import Base
    from store.repository import Repository

    repo = Repository.open(f"sqlite:///{tmp_path}/m.db")
    try:
        with repo.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [d for d in diff if any(name in str(d) for name in ("journey_shares", "contributions"))] == []
    finally:
        repo.close()


async def test_summary_lands_in_the_shared_channel_and_forget_removes_contributions(h: Harness) -> None:
    await share(h)
    await h.signer.command("U2", "contribute", channel_id=TEAM_CHANNEL, response_url=h.slack.response_url("c1"))
    stages = await reply_to(h, "c1")
    touchpoints = await tap_ephemeral(h, "U2", button(stages, "Purchase"), "c2")
    scale = await tap_ephemeral(h, "U2", button(touchpoints, "Checkout"), "c3")
    await tap_ephemeral(h, "U2", button(scale, "4"), "c4")

    # asked in the shared channel: the summary and the files land there, for the team to see
    mark = h.slack.mark()
    await h.signer.command("U1", "summary", channel_id=TEAM_CHANNEL)
    await h.slack.wait_for("files.completeUploadExternal", count=2, since=mark, timeout=20)
    assert {u.channel for u in h.slack.completed_uploads()} == {TEAM_CHANNEL}
    # asked in a channel it is not shared with: it goes to the owner's DM instead
    mark = h.slack.mark()
    await h.signer.command("U1", "export", channel_id="C0RANDOM", response_url=h.slack.response_url("e1"))
    await h.slack.wait_for("files.completeUploadExternal", since=mark, timeout=20)
    assert h.slack.completed_uploads("DU1")
    assert "direct message" in (await reply_to(h, "e1")).all_text()

    # the teammate asks to forget everything about them: their contributions go too
    mark = h.slack.mark()
    await h.signer.command("U2", "forget")
    confirm = await h.next_question("U2", mark)
    await h.tap("U2", confirm, "yes")
    await h.slack.wait_for("chat.postMessage", since=mark, predicate=lambda c: c.channel == "DU2" and "deleted" in c.all_text())
    with h.service.repo.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Contribution)) == 0


async def test_contribute_with_a_team_shows_the_stages_that_team_owns(h: Harness) -> None:
    await share(h)
    # every touchpoint of this journey is owned by marketing
    await h.signer.command("U2", "contribute marketing", channel_id=TEAM_CHANNEL, response_url=h.slack.response_url("m1"))
    owned = await reply_to(h, "m1")
    assert "where Marketing owns a step" in owned.all_text()
    assert {b["text"]["text"] for b in owned.buttons()} == {"1. Awareness", "2. Purchase"}
    # a team named in Dutch is understood too; it owns nothing here, so every stage is offered
    await h.signer.command("U2", "contribute verkoop", channel_id=TEAM_CHANNEL, response_url=h.slack.response_url("m2"))
    none = await reply_to(h, "m2")
    assert "no step owned by Sales" in none.all_text() and len(none.buttons()) == 2
