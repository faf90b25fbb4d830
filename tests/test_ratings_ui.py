"""The ratings question (one turn rates every touchpoint of a stage) in every channel: Telegram
buttons edited in place, Slack selects updating the message, the terminal's typed line."""
from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.engine import Context, State, handle
from bot.events import Choice, Start, parse_input
from bot.replies import Reply
from devkit.fakes.slack_api import buttons_of
from devkit.fakes.telegram_api import FakeTelegram, callback, command, private_text, visible_text
from devkit.fakes.telegram_fixtures import fake_telegram  # noqa: F401
from devkit.fakes.telegram_harness import TelegramHarness
from handlers.slack import render as slack_render
from handlers.telegram import render as telegram_render
from handlers.terminal import TerminalChat
from tests.jsonl_chat import JsonlChat
from tests.slack_harness import Harness, start_harness, step_of as slack_step, stop_harness
from tests.telegram_support import answers, database_url, harness, journeys, questions, step_of  # noqa: F401

# What the owner types up to the first ratings question, by step (the order may change).
TYPED = {
    "meta.language": "en",
    "business.name": "Bakery Bart",
    "business.sector": "1",
    "journey.goal": "leads",
    "journey.process": "a first order",
    "concept.promise": "fresh bread every morning",
    "concept.sacrifice": "/skip",
    "persona.name": "Brenda",
    "persona.role": "mum of two",
    "persona.goals": "a healthy breakfast",
    "persona.pains": "no time left",
    "persona.behaviour": "/skip",
    "persona.channels": "google",
    "persona.trust": "good reviews online",
    "persona.trigger": "hungry kids at home",
    "persona.source": "gut",
    "journey.team": "owner",
}
LONG_STAGE = "Discovering the bakery through friends and neighbours"  # its step key needs a step token


def typed(step: str, stages: str = f"{LONG_STAGE}, Purchase") -> str:
    if step == "journey.stages":
        return stages
    if step.endswith(".touchpoints") or step.startswith("#"):  # a long stage's step key travels as a token
        return "Instagram post, Flyer"
    assert step in TYPED, f"no answer for {step}"
    return TYPED[step]


# ------------------------------------------------------------------------------ engine and renderers
def ratings_reply(lang: str = "en") -> tuple[State, Reply]:
    state = State()
    out = handle(state, Start())
    out = handle(out.state, Choice(lang, "meta.language"))
    for _ in range(40):
        question = out.replies[-1]
        if question.kind == "ratings":
            return out.state, question
        out = handle(out.state, parse_input(typed(question.step or "")), Context())
    raise AssertionError("no ratings question")


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_terminal_shows_the_touchpoints_their_ratings_and_how_to_type_them(lang: str) -> None:
    state, question = ratings_reply(lang)
    question = handle(state, Choice("rate:2=4", question.step)).replies[-1]
    out = io.StringIO()
    chat = TerminalChat(None, None, jsonl=False, stdin=io.StringIO(), stdout=out, export_dir=Path("."))  # type: ignore[arg-type]
    chat.lang = lang
    chat.render(question)
    shown = out.getvalue()
    assert "Instagram post" in shown and "Flyer" in shown
    assert "2. Flyer" in shown and "4 🙂" in shown
    assert ("not rated yet" if lang == "en" else "nog geen cijfer") in shown
    assert ("e.g. 4 3 2" if lang == "en" else "bijvoorbeeld 4 3 2") in shown
    assert not re.search(r"\b(tap|tik)\b", shown, re.IGNORECASE)
    assert "Done" not in shown and "Klaar" not in shown  # typed numbers record at once; nothing to finish


def test_telegram_keyboard_rows_and_callback_data_fit() -> None:
    state, question = ratings_reply()
    assert len(question.step or "") > 30
    markup = telegram_render.keyboard(question)
    rows = [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard]
    assert [text for text, _ in rows[0]] == ["1. Instagram post"] and [t for t, _ in rows[1]] == ["1", "2", "3", "4", "5"]
    assert [text for text, _ in rows[2]] == ["2. Flyer"]
    assert [text for text, _ in rows[-1]] == ["Done ✔", "I don't know"]
    for row in rows:
        for _, data in row:
            assert len(data.encode("utf-8")) <= 64
    tap = telegram_render.parse_callback(rows[1][3][1])
    assert tap is not None and tap.value == "rate:1=4"
    assert telegram_render.parse_callback(rows[0][0][1]) is None  # the name of a row does nothing
    rated = handle(state, Choice(tap.value, tap.step)).replies[-1]
    again = telegram_render.keyboard(rated).inline_keyboard
    assert [b.text for b in again[1]] == ["1", "2", "3", "•4", "5"]


def test_slack_blocks_within_limits() -> None:
    from devkit.fakes.slack_api import check_blocks

    state, question = ratings_reply("nl")
    blocks = slack_render.question_blocks("nl", question)
    assert check_blocks(blocks) is None
    selects = [b["accessory"] for b in blocks if b.get("accessory", {}).get("type") == "static_select"]
    assert len(selects) == 2 and all(len(o["value"]) <= 150 for s in selects for o in s["options"])
    ids = [s["action_id"] for s in selects] + [b["action_id"] for b in buttons_of(blocks)]
    assert len(ids) == len(set(ids))
    assert [b["text"]["text"] for b in buttons_of(blocks)] == ["Klaar ✔", "Weet ik niet"]
    text = "\n".join(b["text"]["text"] for b in blocks if b.get("type") == "section")
    assert "1. Instagram post: ·" not in text, "the touchpoints are listed once, next to their selects"


# ------------------------------------------------------------------------------ Telegram
def _button(message: dict[str, Any], value: str) -> str:
    for row in message["reply_markup"]["inline_keyboard"]:
        for b in row:
            if b["callback_data"].split("|", 2)[-1] == value and b["callback_data"].startswith("a|"):
                return str(b["callback_data"])
    raise AssertionError(f"no button {value}")


async def test_telegram_taps_edit_the_ratings_message_in_place_and_done_moves_on(
    harness: TelegramHarness, fake_telegram: FakeTelegram, journeys: Any
) -> None:
    calls = await harness.send(command("start"))
    for _ in range(40):
        q = questions(calls)[-1]
        step = step_of(q)
        if q.text and "rate:" in json.dumps(q.params.get("reply_markup")):
            break
        calls = await harness.send(private_text(typed(step)))
    else:
        raise AssertionError("no ratings question")
    chat_id, message_id = q.chat_id, q.result["message_id"]
    shown = visible_text(q.text)
    assert "1. Instagram post: ·" in shown and "2. Flyer: ·" in shown and "4 3 2" in shown

    for value, expected in (("rate:1=4", "1. Instagram post: 4"), ("rate:2=2", "2. Flyer: 2")):
        message = fake_telegram.message(chat_id, message_id)
        calls = await harness.send(callback(_button(message, value), message))
        edits = [c for c in calls if c.method == "editMessageText"]
        assert edits and int(edits[-1].params["message_id"]) == message_id, [c.method for c in calls]
        assert not [c for c in calls if c.method == "sendMessage"], "a rating tap sends no new message"
        shown = fake_telegram.message(chat_id, message_id)
        assert expected in visible_text(shown["text"])
    labels = [b["text"] for row in shown["reply_markup"]["inline_keyboard"] for b in row]
    assert "•4" in labels and "•2" in labels

    calls = await harness.send(callback(_button(shown, "__done__"), shown))
    nxt = questions(calls)
    assert nxt and not step_of(nxt[-1]).endswith("ratings"), [visible_text(c.text)[:60] for c in calls if c.method == "sendMessage"]
    final = fake_telegram.message(chat_id, message_id)
    assert "reply_markup" not in final and visible_text(final["text"]).endswith("→ Done ✔")
    stored = [v for k, v in _stored(journeys).items() if k.endswith(".feeling") and k.startswith("stage.discovering")]
    assert sorted(e["v"] for e in stored) == [2, 4]


def _stored(journeys: Any) -> dict[str, Any]:
    from app import OwnerKey

    return answers(journeys, OwnerKey("telegram", "", "4242"))


# ------------------------------------------------------------------------------ Slack
@pytest.fixture
async def h(tmp_path: Path):
    harness, runner = await start_harness(tmp_path)
    yield harness
    await stop_harness(harness, runner)


async def _select(h: Harness, user_id: str, channel: str, ts: str, index: int, score: int) -> None:
    """Choose `score` in the select of touchpoint `index` on the message `ts`, as Slack sends it."""
    stored = h.slack.message(channel, ts)
    block = next(b for b in stored["blocks"] if b.get("accessory", {}).get("action_id") == f"{slack_render.RATE_ACTION}.{index}")
    select = block["accessory"]
    option = next(o for o in select["options"] if json.loads(o["value"])["v"] == f"rate:{index}={score}")
    n = h.signer.next_id()
    payload = {
        "type": "block_actions",
        "team": {"id": h.slack.team_id, "domain": "bakery"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": h.slack.team_id},
        "api_app_id": "A0APP",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
        "trigger_id": f"trigger.s{n}",
        "channel": {"id": channel, "name": "directmessage"},
        "message": {"ts": ts, "type": "message", "text": stored.get("text", ""), "blocks": stored["blocks"]},
        "response_url": h.slack.response_url(f"sel{n}"),
        "actions": [
            {
                "type": "static_select",
                "action_id": select["action_id"],
                "block_id": block["block_id"],
                "selected_option": option,
                "placeholder": select["placeholder"],
                "action_ts": f"{1_950_000_000 + n}.000400",
            }
        ],
    }
    from urllib.parse import urlencode

    sent = await h.signer.post(urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded")
    assert sent.status == 200


async def test_slack_selects_update_the_ratings_message_and_done_moves_on(h: Harness) -> None:
    assert (await h.signer.command("U1", "")).status == 200
    question = await h.next_question("U1", 0)
    for _ in range(40):
        if any(b.get("accessory", {}).get("type") == "static_select" for b in question.blocks):
            break
        mark = h.slack.mark()
        assert (await h.signer.dm("U1", typed(slack_step(question)))).status == 200
        question = await h.next_question("U1", mark)
    else:
        raise AssertionError("no ratings question")
    channel, ts = question.channel, question.response["ts"]
    assert "Instagram post" in question.all_text() and "4 3 2" in question.all_text()

    for index, score in ((1, 4), (2, 2)):
        mark = h.slack.mark()
        await _select(h, "U1", channel, ts, index, score)
        await h.slack.wait_for("chat.update", since=mark, predicate=lambda c: c.params.get("ts") == ts)
        await h.slack.wait_idle(quiet=0.2)
        assert not h.dm_posts("U1", mark), "a rating updates the message; nothing new is posted"
    blocks = h.slack.message(channel, ts)["blocks"]
    chosen = {b["accessory"]["action_id"]: json.loads(b["accessory"]["initial_option"]["value"])["v"]
              for b in blocks if "initial_option" in b.get("accessory", {})}
    assert chosen == {f"{slack_render.RATE_ACTION}.1": "rate:1=4", f"{slack_render.RATE_ACTION}.2": "rate:2=2"}

    mark = h.slack.mark()
    updated = type(question)(question.method, {**question.params, "blocks": blocks}, response=question.response)
    assert (await h.tap("U1", updated, "__done__")).status == 200
    nxt = await h.next_question("U1", mark)
    assert not slack_step(nxt).endswith(".ratings")
    final = h.slack.message(channel, ts)["blocks"]
    assert not buttons_of(final) and not any("accessory" in b for b in final)
    with h.store.sessions() as session:
        from sqlalchemy import select

        from store.models import Journey

        stored = session.scalars(select(Journey)).one().answers
    feelings = sorted(v["v"] for k, v in stored.items() if k.startswith("stage.discovering") and k.endswith(".feeling"))
    assert feelings == [2, 4]


# ------------------------------------------------------------------------------ terminal, JSONL
def test_jsonl_question_carries_the_touchpoints_and_a_typed_line_answers(sqlite_url: str, tmp_path: Path) -> None:
    chat = JsonlChat(sqlite_url, tmp_path)
    turn = chat.first
    try:
        for _ in range(40):
            question = turn[-1]
            if question.get("kind") == "ratings":
                break
            turn = chat.send(typed(question["step"], stages="Awareness, Purchase"))
        else:
            raise AssertionError("no ratings question")
        assert {"type", "step", "kind", "text", "choices", "progress"} <= set(question)
        data = question["data"]
        assert [(t["index"], t["name"], t["value"]) for t in data["touchpoints"]] == [(1, "Instagram post", None), (2, "Flyer", None)]
        assert [s["value"] for s in data["scale"]] == ["1", "2", "3", "4", "5"]
        half = chat.send("4")
        assert half[0]["type"] == "error" and "Flyer" in half[0]["text"]
        assert [t["value"] for t in half[-1]["data"]["touchpoints"]] == [4, None], "the valid part is kept"
        turn = chat.send("4 3")
        assert not any(t["type"] == "error" for t in turn), turn
        assert turn[-1]["type"] == "question" and turn[-1]["step"] != question["step"]
    finally:
        chat.close()
