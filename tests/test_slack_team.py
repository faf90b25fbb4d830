"""Team journeys: share into a channel, teammates score and add touchpoints, the summary shows disagreement.
Nobody outside the workspace, and nobody outside the shared channel, reads or changes a journey."""
from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select

from bot.events import Choice, Start, Text
from app import OwnerKey, ShareDenied
from store.models import Contribution, JourneyShare, Owner
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
    """The owner's whole interview straight through the application layer (the DM flow has its own test)."""
    owner = h.owner(user_id)
    replies = h.app.handle(owner, Start(lang_hint="en"))
    for _ in range(80):
        question = next((r for r in reversed(replies) if r.type == "question"), None)
        if question is None:
            return
        action = plan_for(question.step)
        if action[0] == "type":
            replies = h.app.handle(owner, Text(action[1]))
        else:
            for value in action[1:]:
                replies = h.app.handle(owner, Choice(value, question.step))
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
    with h.store.sessions() as session:
        rows = session.scalars(select(Contribution).order_by(Contribution.id)).all()
        assert [(r.user_id, r.touchpoint, r.score, r.added) for r in rows] == [
            ("U2", "Checkout", 5, False),
            ("U2", "Flyer at school", 3, True),
        ]
        # the owner's own answers are untouched
    view = h.app.view(h.owner("U1"), 1)
    assert [tp.name for tp in view.stages[0].touchpoints] == ["Instagram post"]
    # the markdown file carries the team's view too
    markdown = (await h.app.export(h.owner("U1"), 1)).data.decode("utf-8")
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
    with h.store.sessions() as session:
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
    with h.store.sessions() as session:
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
    with h.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Contribution)) == 0
        assert session.scalar(select(func.count()).select_from(Owner).where(Owner.workspace == OTHER_TEAM)) == 0


def test_the_team_rules_hold_without_the_adapter(tmp_path) -> None:
    """Independent of the adapter's checks (e.g. a multi-workspace install): the application layer
    and the store refuse other workspaces, other channels, non-owners, stale stages and bad scores."""
    from app import Journeys
    from store.repository import Store

    journeys = Journeys(Store.open(f"sqlite:///{tmp_path}/s.db"))
    team = journeys.team
    try:
        owner = OwnerKey("slack", "T1", "U1")
        mate = OwnerKey("slack", "T1", "U2")
        journeys.handle(owner, Start(lang_hint="en"))
        journeys.handle(owner, Text("Zon"))
        journey_id = journeys.current_journey_id(owner)
        shared = team.share(owner, "C1")
        assert shared.created and shared.share.journey_id == journey_id
        assert not team.share(owner, "C1").created  # sharing twice keeps one share
        with pytest.raises(ShareDenied):
            team.share(OwnerKey("slack", "T2", "U1"), "C1", journey_id)  # same user id, other workspace
        with pytest.raises(ShareDenied):
            team.share(mate, "C1", journey_id)  # not the owner
        with pytest.raises(ShareDenied):
            team.authorize(OwnerKey("slack", "T2", "U2"), shared.share.id, "C1")
        with pytest.raises(ShareDenied):
            team.authorize(mate, shared.share.id, "C2")  # shared with C1, not C2
        assert team.shares_in(OwnerKey("slack", "T2", "U2"), "C1") == []
        share = team.authorize(mate, shared.share.id, "C1")
        assert share.journey_id == journey_id
        assert team.shared_in(owner, journey_id, "C1") and not team.shared_in(owner, journey_id, "C2")
        assert team.view(share).stages == []  # no stages yet: nothing to score
        assert team.score(mate, share, "awareness", "Flyer", 3) is None
        with pytest.raises(ShareDenied):  # a share record of this workspace used from another one
            team._record(OwnerKey("slack", "T2", "U2"), share, None, "x", 3, None)  # type: ignore[arg-type]
    finally:
        journeys.close()


def test_contribution_rules() -> None:
    from bot.journey import build_view
    from bot.team import is_added, parse_add, stage_numbered, stages_owned_by, team_of, touchpoint_name, valid_score

    assert [valid_score(s) for s in (None, 0, 1, 5, 6)] == [True, False, True, True, False]
    assert team_of("Verkoop") == team_of("sales") == "sales" and team_of("nobody") is None and team_of("") is None
    assert parse_add("2  Price  comparison site ") == (2, "Price comparison site")
    assert parse_add("two sites") is None and parse_add("3") is None
    assert len(touchpoint_name("x" * 500)) == 200
    answers = {
        "journey.stages": {"v": ["Awareness", "Purchase"], "s": "ok"},
        "stage.awareness.touchpoints": {"v": ["Instagram post"], "s": "ok"},
        "stage.awareness.tp1.team": {"v": "marketing", "s": "ok"},
        "stage.purchase.touchpoints": {"v": ["Checkout"], "s": "ok"},
        "stage.purchase.tp1.team": {"v": "sales", "s": "ok"},
    }
    view = build_view(answers, "en", 1)
    assert [s.name for s in view.stages] == ["Awareness", "Purchase"]
    assert [s.slug for s in stages_owned_by(view, "sales")] == [view.stages[-1].slug]
    assert stage_numbered(view, 0) is None and stage_numbered(view, 1) is view.stages[0]
    assert not is_added(view.stages[0], "instagram POST") and is_added(view.stages[0], "Flyer")


async def test_forgetting_an_owner_removes_their_shares_and_every_contribution(h: Harness) -> None:
    """/forget of the owner: their journey, its shares and the teammates' contributions to it go, and so
    does what the owner contributed to someone else's journey."""
    await share(h)  # U1 shares their journey into the team channel
    interview(h, "U2")  # U2 has a journey of their own...
    mate_share = h.app.team.share(h.owner("U2"), TEAM_CHANNEL).share
    owner_share = h.app.team.shares_in(h.owner("U1"), TEAM_CHANNEL)[0]
    # ...scores U1's journey, and U1 scores U2's
    assert h.app.team.score(h.owner("U2"), owner_share, "purchase", "Checkout", 4) is not None
    assert h.app.team.score(h.owner("U1"), mate_share, "awareness", "Instagram post", 2) is not None
    assert h.store.count_rows(Contribution) == 2 and h.store.count_rows(JourneyShare) == 2

    mark = h.slack.mark()
    await h.signer.command("U1", "forget")
    confirm = await h.next_question("U1", mark)
    await h.tap("U1", confirm, "yes")
    await h.slack.wait_for("chat.postMessage", since=mark, predicate=lambda c: c.channel == "DU1" and "deleted" in c.all_text())
    await h.journeys.drain()
    with h.store.sessions() as session:
        shares = session.execute(select(JourneyShare.channel_id, JourneyShare.journey_id)).all()
        assert [tuple(s) for s in shares] == [(TEAM_CHANNEL, mate_share.journey_id)]  # only U2's share is left
        assert session.scalars(select(Contribution)).all() == []  # U2's score of U1's journey and U1's of U2's
        assert session.scalar(select(func.count()).select_from(Owner).where(Owner.user_id == "U1")) == 0
    assert h.app.team.contributions(owner_share.journey_id) == []


def test_the_sharing_migration_matches_the_models(tmp_path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from store.models import Base
    from store.repository import Store

    repo = Store.open(f"sqlite:///{tmp_path}/m.db")
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
    with h.store.sessions() as session:
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
