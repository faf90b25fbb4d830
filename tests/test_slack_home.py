"""The App Home tab, through the real Bolt app and the fake Web API: opening it publishes the owner's
journeys (views.publish), its buttons act in the owner's DM, and the map picture is uploaded once."""
from __future__ import annotations

import asyncio
import json
import logging
from datetime import date
from typing import Any

import pytest
from babel.dates import format_date
from sqlalchemy import select

from app import Journeys, OwnerKey
from bot.events import Command, Text
from bot.vocabulary import SHOW
from devkit.drive import type_lines
from devkit.fakes.slack_api import TEAM_ID, Call, block_texts, buttons_of, check_view_blocks
from devkit.scripts import B2B_EN, BAKERY_NL
from handlers.slack import home
from store.living import Reminder
from store.records import HomeJourney, TodoRecord
from tests.slack_harness import Harness, start_harness, step_of, stop_harness

HAS_MAP_IMAGE = hasattr(Journeys, "map_image")
needs_map_image = pytest.mark.skipif(not HAS_MAP_IMAGE, reason="Journeys.map_image is not there yet")


@pytest.fixture
async def h(tmp_path):
    harness, runner = await start_harness(tmp_path)
    yield harness
    await stop_harness(harness, runner)


# ---------------------------------------------------------------------- helpers


def owner(user: str, team: str = TEAM_ID) -> OwnerKey:
    return OwnerKey("slack", team, user)


async def seed(h: Harness, who: OwnerKey, lines: list[str], *, report: bool = True) -> int:
    """Type the lines as `who`; with `report`, the summary is made too (which makes the to-dos)."""
    await asyncio.to_thread(type_lines, h.app, who, lines)
    journey_id = h.app.current_journey_id(who)
    assert journey_id is not None
    if report:
        await h.app.report(who, journey_id)
    return journey_id


async def turn(h: Harness, who: OwnerKey, *events: Any) -> None:
    for event in events:
        await h.app.ahandle(who, event)


def renamed(script: list[str], name: str) -> list[str]:
    """The script with another business name (its second line)."""
    return [script[0], name, *script[2:]]


def published(h: Harness, user: str, since: int = 0) -> list[Call]:
    return [c for c in h.slack.since(since, "views.publish") if c.params.get("user_id") == user]


async def open_home(h: Harness, user: str) -> dict[str, Any]:
    """Open the Home tab as `user`; the view Slack accepted."""
    mark = h.slack.mark()
    assert (await h.signer.home_opened(user)).status == 200
    await h.slack.wait_for("views.publish", since=mark, predicate=lambda c: c.params.get("user_id") == user and bool(c.response and c.response["ok"]))
    return h.slack.home_view(user)


async def press(h: Harness, user: str, label: str, title: str | None = None, *, view: dict[str, Any] | None = None) -> int:
    """Tap the button `label` (of the journey titled `title`) in `user`'s Home view; returns the mark
    before the tap, once the Home view was published again."""
    view = view or h.slack.home_view(user)
    button = button_in(view, label, title)
    mark = h.slack.mark()
    assert (await h.signer.home_action(user, button)).status == 200
    await h.slack.wait_for("views.publish", since=mark, predicate=lambda c: c.params.get("user_id") == user and c.response is not None)
    await asyncio.wait_for(h.journeys.drain(), 20)
    return mark


def is_title(blocks: list[dict[str, Any]], index: int) -> bool:
    """A journey's title: the section right before its progress line (a context block)."""
    return blocks[index]["type"] == "section" and index + 1 < len(blocks) and blocks[index + 1]["type"] == "context"


def button_in(view: dict[str, Any], label: str, title: str | None = None) -> dict[str, Any]:
    """The button `label` in the blocks of the journey whose title section contains `title`."""
    current: str | None = None
    for index, block in enumerate(view["blocks"]):
        if is_title(view["blocks"], index):
            current = block["text"]["text"]
        for element in buttons_of([block]):
            if element["text"]["text"] == label and (title is None or (current is not None and title in current)):
                return element
    raise AssertionError(f"no button {label!r} for {title!r} in the Home view")


def text_of(view: dict[str, Any]) -> str:
    return "\n".join(block_texts(view["blocks"]))


def titles(view: dict[str, Any]) -> list[str]:
    """The journeys' title sections, in order."""
    blocks = view["blocks"]
    return [b["text"]["text"] for i, b in enumerate(blocks) if is_title(blocks, i)]


def images(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in view["blocks"] if b["type"] == "image"]


def review_date(h: Harness, journey_id: int, locale: str) -> str:
    with h.store.sessions.begin() as session:
        due = session.scalar(select(Reminder.due_at).where(Reminder.journey_id == journey_id))
    assert due is not None
    return format_date(due.date(), "long", locale=locale)


def dm_texts(h: Harness, user: str, since: int) -> str:
    return "\n".join(c.all_text() for c in h.dm_posts(user, since))


def private_uploads(h: Harness) -> list[Any]:
    return [u for u in h.slack.completed_uploads() if u.channel is None]


# ---------------------------------------------------------------------- what the tab shows


async def test_home_lists_the_owners_journeys_newest_first_with_todos_in_their_language(h: Harness) -> None:
    u1, u4 = owner("U1"), owner("U4")
    h.slack.add_user("U4", locale="nl-NL")
    h.slack.add_user("U2")
    older = await seed(h, u1, B2B_EN)
    await turn(h, u1, Command("new"), Text("Corner Shop"))
    newer = h.app.current_journey_id(u1)
    dutch = await seed(h, u4, BAKERY_NL)
    # someone else in this workspace, and the same user id in another workspace
    await seed(h, owner("U2"), renamed(B2B_EN, "Secret Sauce Ltd"))
    await seed(h, owner("U1", "T0OTHER"), renamed(B2B_EN, "Other Workspace Bakery"))

    view = await open_home(h, "U1")
    text = text_of(view)
    assert "Your customer journeys" in text
    listed = titles(view)
    assert len(listed) == 2 and "Corner Shop" in listed[0] and "Northwind IT Advisory" in listed[1], listed  # newest first
    assert "Secret Sauce" not in text and "Other Workspace" not in text
    [progress] = [j for j in h.app.list_journeys(u1) if j.id == newer]
    assert f"{progress.answered}/{progress.total} answered" in text and progress.answered < progress.total
    assert f"complete · next review {review_date(h, older, 'en_GB')}" in text
    # the to-dos: five of the nine open ones, then how many more
    todos = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section" and b["text"]["text"].startswith("*Open to-dos*")]
    assert len(todos) == 1
    lines = todos[0].split("\n")
    assert lines[1] == "• Take the waiting out of “Written proposal”" and len([l for l in lines if l.startswith("• ")]) == 5
    assert lines[-1] == "_+4 more_"
    # buttons: Carry on and Export for both, Review only for the complete one; ids and values name the journey
    labels = [(b["text"]["text"], json.loads(b["value"])["j"]) for b in buttons_of(view["blocks"])]
    assert labels == [("Carry on", newer), ("Export", newer), ("Carry on", older), ("Export", older), ("Review", older)]

    dutch_view = await open_home(h, "U4")
    dutch_text = text_of(dutch_view)
    assert "Je klantreizen" in dutch_text and "Bakkerij De Korenschoof" in dutch_text
    assert "Northwind" not in dutch_text and "Corner Shop" not in dutch_text
    assert f"af · volgende herziening {review_date(h, dutch, 'nl_NL')}" in dutch_text
    assert "*Open taken*" in dutch_text
    assert [b["text"]["text"] for b in buttons_of(dutch_view["blocks"])] == ["Verder", "Exporteren", "Nalopen"]
    assert "Carry on" not in dutch_text and "to-dos" not in dutch_text

    # planned to-dos stay on the list, marked; done ones leave it
    await turn(h, u1, Command("open", str(older)), Command("todo", "1 planned"), Command("todo", "2 done"))
    text = text_of(await open_home(h, "U1"))
    assert "• Take the waiting out of “Written proposal” _(planned)_" in text
    assert "Get “Quarterly meeting” right every time" not in text and "_+3 more_" in text


async def test_a_new_owner_sees_a_welcome_with_start_in_their_language(h: Harness) -> None:
    view = await open_home(h, "U3")
    assert "Welcome to journeybot" in text_of(view) and not titles(view)
    [start] = buttons_of(view["blocks"])
    assert start["text"]["text"] == "Start"
    mark = await press(h, "U3", "Start", view=view)
    question = h.last_question("U3", mark)
    assert question is not None, "Start begins the interview in the DM, as /journey does"
    assert published(h, "U3", mark), "the Home view is published again after the tap"

    h.slack.add_user("U5", locale="nl-NL")  # never talked to the bot: Slack's locale decides
    dutch = await open_home(h, "U5")
    assert "Welkom bij journeybot" in text_of(dutch)
    assert [b["text"]["text"] for b in buttons_of(dutch["blocks"])] == ["Beginnen"]


async def test_the_messages_tab_publishes_nothing(h: Harness) -> None:
    mark = h.slack.mark()
    assert (await h.signer.home_opened("U1", tab="messages")).status == 200
    await asyncio.wait_for(h.journeys.drain(), 10)
    assert not h.slack.since(mark, "views.publish")


async def test_owner_text_with_markup_is_escaped(h: Harness) -> None:
    await seed(h, owner("U1"), ["en", "Bakery <Zon> & Co <@U2> <https://evil.example|click>"], report=False)
    view = await open_home(h, "U1")
    [title] = [b for i, b in enumerate(view["blocks"]) if is_title(view["blocks"], i)]
    assert title["text"]["verbatim"] is True
    assert title["text"]["text"] == "*Bakery &lt;Zon&gt; &amp; Co &lt;@U2&gt; &lt;https://evil.example|click&gt;*"
    for text in block_texts(view["blocks"]):
        assert "<@U2>" not in text and "<Zon>" not in text and "<https://" not in text


async def test_many_journeys_are_capped_and_counted_within_100_blocks(h: Harness) -> None:
    lines = ["en", "Shop 1"]
    for n in range(2, 26):
        lines += ["/new", f"Shop {n}"]
    await seed(h, owner("U1"), lines, report=False)
    view = await open_home(h, "U1")  # the fake refuses a view of more than 100 blocks
    assert len(view["blocks"]) <= 100
    listed = titles(view)
    assert listed == [f"*Shop {n}*" for n in range(25, 25 - home.MAX_JOURNEYS, -1)]
    hidden = 25 - home.MAX_JOURNEYS
    assert f"{hidden} more journeys: `/journey list`" in text_of(view)


def test_the_fullest_journeys_still_fit_a_home_view() -> None:
    """Every journey with a long title, five-plus to-dos of markup and a picture: 100 blocks at most,
    each within Slack's limits (the fake's own check)."""
    todos = [TodoRecord(id=i, key=str(i), kind="wow", title="<&>" * 200, status="planned") for i in range(9)]
    journeys = [HomeJourney(id=i, title="&<" * 400, answered=1, total=2, complete=True, review_due=date(2027, 3, 1), todos=todos, rated=3) for i in range(40)]
    pictures = {i: f"F{i:06d}" for i in range(40)}
    for lang in ("en", "nl"):
        blocks = home.view(home.home_blocks(lang, journeys, pictures))["blocks"]
        assert len(blocks) <= 100
        assert check_view_blocks(blocks, set(pictures.values())) is None
        assert len(images({"blocks": blocks})) == home.MAX_JOURNEYS


# ---------------------------------------------------------------------- the buttons


async def test_the_buttons_act_in_the_dm_and_the_view_is_published_again(h: Harness) -> None:
    u1 = owner("U1")
    older = await seed(h, u1, B2B_EN)
    await turn(h, u1, Command("new"), Text("Corner Shop"))
    newer = h.app.current_journey_id(u1)
    await turn(h, u1, Command("open", str(older)))  # the complete one is current now
    await open_home(h, "U1")

    # Carry on: the Corner Shop journey is opened and its current question asked in the DM
    mark = await press(h, "U1", "Carry on", "Corner Shop")
    assert h.app.current_journey_id(u1) == newer
    question = h.last_question("U1", mark)
    assert question is not None and question.channel == "DU1"
    expected = [r for r in h.app.handle(u1, Command(SHOW)) if r.type == "question"][-1]
    assert step_of(question) == expected.step == "business.sector"
    assert "Corner Shop" in question.all_text()
    assert published(h, "U1", mark)

    # Export: the files of the Northwind journey in the DM, and it does not become the current one
    mark = await press(h, "U1", "Export", "Northwind")
    markdown = [u for u in h.slack.completed_uploads("DU1") if u.filename.endswith(".md")]
    assert markdown and b"Northwind IT Advisory" in (markdown[-1].data or b"")
    assert all(u.channel == "DU1" for u in h.slack.completed_uploads() if u.filename.endswith(".md"))
    assert h.app.current_journey_id(u1) == newer
    assert published(h, "U1", mark)

    # Review: the complete journey is opened and its review starts in the DM
    mark = await press(h, "U1", "Review", "Northwind")
    assert h.app.current_journey_id(u1) == older
    assert "still true" in dm_texts(h, "U1", mark).lower()
    assert published(h, "U1", mark)


async def test_a_button_with_another_owners_journey_does_nothing_to_it(h: Harness) -> None:
    h.slack.add_user("U2")
    theirs = await seed(h, owner("U1"), B2B_EN)
    mine = await seed(h, owner("U2"), ["en", "My Own Shop"], report=False)
    await open_home(h, "U2")
    forged = {"action_id": f"{home.ACTION}.open.{theirs}", "value": home.value_of(theirs), "text": {"type": "plain_text", "text": "Carry on"}}
    mark = h.slack.mark()
    assert (await h.signer.home_action("U2", forged)).status == 200
    await h.slack.wait_for("views.publish", since=mark, predicate=lambda c: c.params.get("user_id") == "U2" and c.response is not None)
    await asyncio.wait_for(h.journeys.drain(), 20)
    assert h.app.current_journey_id(owner("U2")) == mine
    assert f"You have no journey {theirs}" in dm_texts(h, "U2", mark)
    assert "Northwind" not in dm_texts(h, "U2", mark)

    forged = {**forged, "action_id": f"{home.ACTION}.export.{theirs}"}
    mark = h.slack.mark()
    before = len(h.slack.completed_uploads())
    assert (await h.signer.home_action("U2", forged)).status == 200
    await h.slack.wait_for("views.publish", since=mark, predicate=lambda c: c.params.get("user_id") == "U2" and c.response is not None)
    await asyncio.wait_for(h.journeys.drain(), 20)
    assert len(h.slack.completed_uploads()) == before, "nothing of U1's journey is uploaded for U2"
    assert "can't change this journey" in dm_texts(h, "U2", mark)
    assert "Northwind" not in text_of(h.slack.home_view("U2"))


# ---------------------------------------------------------------------- the map picture


@needs_map_image
async def test_the_map_picture_is_uploaded_once_across_two_opens(h: Harness) -> None:
    u1 = owner("U1")
    complete = await seed(h, u1, B2B_EN)
    await turn(h, u1, Command("new"), Text("Corner Shop"))  # nothing rated: no picture
    first = await open_home(h, "U1")
    [image] = images(first)
    [upload] = private_uploads(h)
    assert image["slack_file"] == {"id": upload.file_id} and image["alt_text"]
    assert upload.data and upload.data.startswith(b"\x89PNG")
    blocks = first["blocks"]
    at = blocks.index(image)
    [title_at] = [i for i in range(len(blocks)) if is_title(blocks, i) and "Northwind" in blocks[i]["text"]["text"]]
    buttons_at = next(i for i in range(title_at, len(blocks)) if blocks[i]["type"] == "actions")
    assert title_at < at < buttons_at, "the picture belongs to the journey whose touchpoints are rated"

    second = await open_home(h, "U1")
    assert images(second) == [image]
    assert len(private_uploads(h)) == 1, "the same picture is not uploaded again"
    assert not [u for u in h.slack.completed_uploads() if u.channel is not None], "the picture goes to no channel"
    assert complete in {json.loads(b["value"])["j"] for b in buttons_of(second["blocks"])}


@needs_map_image
async def test_a_failing_upload_still_publishes_the_view(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    await seed(h, owner("U1"), B2B_EN)
    h.slack.fail("files.getUploadURLExternal", "internal_error")
    with caplog.at_level(logging.INFO, logger="handlers.slack.listeners.events.app_home"):
        view = await open_home(h, "U1")
    assert "Northwind IT Advisory" in text_of(view) and not images(view)
    assert any("was not uploaded" in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)

    view = await open_home(h, "U1")  # Slack works again: the picture is there
    [image] = images(view)
    [upload] = private_uploads(h)
    assert image["slack_file"]["id"] == upload.file_id

    # Slack lost the file (deleted, say): the view it refuses goes out without the picture, which is uploaded anew next time
    del h.slack.uploads[upload.file_id]
    mark = h.slack.mark()
    view = await open_home(h, "U1")
    refused = [c for c in published(h, "U1", mark) if c.response and not c.response["ok"]]
    assert refused and refused[0].response["error"] == "invalid_blocks"
    assert not images(view) and "Northwind IT Advisory" in text_of(view)
    view = await open_home(h, "U1")
    [image] = images(view)
    assert image["slack_file"]["id"] != upload.file_id and len(private_uploads(h)) == 1
