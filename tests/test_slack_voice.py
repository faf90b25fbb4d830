"""Voice clips in the Slack DM (issue 16): the real Bolt app against the fake Web API, the real openai
client against the fake transcription route. What Slack declares is checked before the download, the
clip is transcribed in the owner's language and shown back; only "Use this" stores the words, exactly
as typed text would be."""
from __future__ import annotations

from typing import Any, AsyncIterator

import pytest

import prompts
from app import Journeys, OwnerKey
from app.voice import Voice, VoiceSettings
from bot.engine.heard import RETYPE, USE
from devkit.fakes.openai_api import API_KEY, FakeOpenAI
from devkit.fakes.slack_api import TEAM_ID, Call
from devkit.fakes.transcribe_api import Transcript
from store.repository import Store
from tests.slack_harness import TODAY, Harness, start_harness, step_of, stop_harness

MODEL = "gpt-4o-mini-transcribe"
AUDIO = b"\x1aE\xdf\xa3" + bytes(range(256)) * 30  # a webm clip, as far as anyone here can tell


@pytest.fixture
async def model() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


async def harness(tmp_path: Any, model: FakeOpenAI | None) -> tuple[Harness, Any]:
    voice = Voice(VoiceSettings(model=MODEL, base_url=model.base_url, api_key=API_KEY)) if model is not None else None
    journeys = Journeys(Store.open(f"sqlite:///{tmp_path}/journeybot.db"), today=lambda: TODAY, voice=voice)
    h, runner = await start_harness(tmp_path, journeys=journeys)
    h.slack.add_user("U2", locale="nl-NL")
    return h, runner


@pytest.fixture
async def h(tmp_path: Any, model: FakeOpenAI) -> AsyncIterator[Harness]:
    harness_, runner = await harness(tmp_path, model)
    yield harness_
    await stop_harness(harness_, runner)


def owner(user: str) -> OwnerKey:
    return OwnerKey("slack", TEAM_ID, user)


def answers(h: Harness, user: str) -> dict[str, Any]:
    journey_id = h.app.current_journey_id(owner(user))
    return dict(h.app.view(owner(user), journey_id).answers) if journey_id else {}


async def first_question(h: Harness, user: str) -> Call:
    mark = h.slack.mark()
    await h.signer.dm(user, "hello")
    return await h.next_question(user, mark)


async def clip(h: Harness, user: str, file: dict[str, Any]) -> list[Call]:
    """Share `file` in the DM; the messages posted there once the work is done."""
    mark = h.slack.mark()
    assert (await h.signer.dm(user, "", files=[file])).status == 200
    await h.journeys.drain()
    return h.dm_posts(user, mark)


@pytest.mark.parametrize("user, lang, words", [("U1", "en", "We bake sourdough"), ("U2", "nl", "Wij bakken zuurdesem")])
async def test_a_confirmed_clip_is_stored_exactly_as_the_typed_answer(h: Harness, model: FakeOpenAI, user: str, lang: str, words: str) -> None:
    first = await first_question(h, user)
    model.transcriptions.push(Transcript.of(words))
    posts = await clip(h, user, h.slack.add_user_audio(AUDIO, seconds=6))
    heard = [p for p in posts if p.buttons()][-1]
    assert prompts.say(lang, "messages", "heard.ask", text=words) in heard.all_text()
    assert [b["text"]["text"] for b in heard.buttons()] == [prompts.say(lang, "messages", "heard.use"), prompts.say(lang, "messages", "heard.retype")]
    assert answers(h, user) == {}
    request = model.transcriptions.requests[-1]
    assert (request.model, request.language, request.filename, request.data) == (MODEL, lang, "voice.webm", AUDIO)

    mark = h.slack.mark()
    await h.tap(user, heard, USE)
    after_voice = await h.next_question(user, mark)

    # U3 types the same words at the same question
    typed_first = await first_question(h, "U3")
    assert step_of(typed_first) == step_of(first)
    if lang == "nl":
        await h.signer.command("U3", "language nl")
        await h.journeys.drain()
    mark = h.slack.mark()
    await h.signer.dm("U3", words)
    typed = await h.next_question("U3", mark)
    assert answers(h, user) == answers(h, "U3") != {}
    assert answers(h, user)[step_of(first)]["v"] == words
    assert after_voice.all_text() == typed.all_text()


async def test_retype_stores_nothing(h: Harness, model: FakeOpenAI) -> None:
    first = await first_question(h, "U1")
    model.transcriptions.push(Transcript.of("We bake sourdough"))
    heard = [p for p in await clip(h, "U1", h.slack.add_user_audio(AUDIO)) if p.buttons()][-1]
    mark = h.slack.mark()
    await h.tap("U1", heard, RETYPE)
    again = await h.next_question("U1", mark)
    await h.journeys.drain()
    assert step_of(again) == step_of(first)
    assert any(prompts.say("en", "messages", "heard.retyping") in p.all_text() for p in h.dm_posts("U1", mark))
    assert answers(h, "U1") == {}


async def test_a_short_file_object_is_completed_with_files_info(h: Harness, model: FakeOpenAI) -> None:
    await first_question(h, "U2")
    model.transcriptions.push(Transcript.of("Bakkerij De Zon"))
    posts = await clip(h, "U2", h.slack.add_user_audio(AUDIO, partial=True, name="audio_message.m4a", mimetype="audio/mp4"))
    assert any("Bakkerij De Zon" in p.all_text() for p in posts if p.buttons())
    assert h.slack.calls_of("files.info")
    assert model.transcriptions.requests[-1].filename == "voice.m4a"


@pytest.mark.parametrize(
    "file, reason, values",
    [
        ({"seconds": 300}, "too_long", {"seconds": "300", "limit": "120"}),
        ({"seconds": 10, "reported_size": 6_000_000}, "too_big", {"limit": "5 MB"}),
    ],
)
async def test_a_clip_over_the_limits_is_not_downloaded(h: Harness, model: FakeOpenAI, file: dict[str, Any], reason: str, values: dict[str, str]) -> None:
    await first_question(h, "U1")
    posts = await clip(h, "U1", h.slack.add_user_audio(AUDIO, **file))
    assert len(posts) == 1 and prompts.say("en", "messages", f"voice.{reason}", **values) in posts[0].all_text()
    assert h.slack.fetched == [] and model.transcriptions.calls == 0
    assert answers(h, "U1") == {}


async def test_no_words_and_a_failing_server_store_nothing(h: Harness, model: FakeOpenAI) -> None:
    await first_question(h, "U2")
    model.transcriptions.push(Transcript.of("[BLANK_AUDIO]"))
    posts = await clip(h, "U2", h.slack.add_user_audio(AUDIO))
    assert len(posts) == 1 and prompts.say("nl", "messages", "voice.no_words") in posts[0].all_text()
    model.transcriptions.push(Transcript.server_error(503), Transcript.server_error(503))
    posts = await clip(h, "U2", h.slack.add_user_audio(AUDIO))
    assert len(posts) == 1 and prompts.say("nl", "messages", "voice.failed") in posts[0].all_text()
    assert model.transcriptions.calls == 3
    assert answers(h, "U2") == {}


async def test_a_login_page_instead_of_the_clip_is_not_transcribed(h: Harness, model: FakeOpenAI) -> None:
    await first_question(h, "U1")
    h.slack.files_readable = False  # no files:read scope: Slack answers with its login page
    posts = await clip(h, "U1", h.slack.add_user_audio(AUDIO))
    assert len(posts) == 1 and prompts.say("en", "messages", "voice.failed") in posts[0].all_text()
    assert model.transcriptions.calls == 0


async def test_voice_switched_off_in_slack(tmp_path: Any) -> None:
    h, runner = await harness(tmp_path, None)
    try:
        for user, lang in (("U1", "en"), ("U2", "nl")):
            await first_question(h, user)
            posts = await clip(h, user, h.slack.add_user_audio(AUDIO))
            assert len(posts) == 1 and prompts.say(lang, "messages", "voice.switched_off") in posts[0].all_text()
        assert h.slack.fetched == []
    finally:
        await stop_harness(h, runner)
