"""Voice notes in Telegram (issue 16): the real python-telegram-bot against the fake Bot API, the
real openai client against the fake transcription route. A note is checked before it is fetched,
fetched no further than its cap, transcribed in the owner's language and shown back; only a tap on
"Use this" stores it, exactly as the typed text would be. The engine's side is tested at the end."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, AsyncIterator

import pytest
import pytest_asyncio

import prompts
from app import Journeys, OwnerKey
from app.voice import Voice, VoiceSettings
from bot import engine
from bot.engine.heard import HEARD, RETYPE, USE
from bot.events import Choice, Command, Heard, Start, Text
from devkit.fakes.openai_api import API_KEY, FakeOpenAI
from devkit.fakes.telegram_api import Call, FakeTelegram, command, private_text, visible_text, voice
from devkit.fakes.telegram_fixtures import fake_telegram  # noqa: F401
from devkit.fakes.telegram_harness import TelegramHarness
from devkit.fakes.transcribe_api import Transcript
from tests.telegram_support import answers, database_url, journeys, questions, tap  # noqa: F401

MODEL = "whisper-test"
AUDIO = b"OggS\x00\x02" + bytes(range(256)) * 40  # what the note sends; the fake never listens to it
ANN, BOB = 4242, 4343


def owner(user_id: int) -> OwnerKey:
    return OwnerKey("telegram", "", str(user_id))


@pytest_asyncio.fixture
async def model() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


def switch_on(journeys: Journeys, model: FakeOpenAI, **limits: Any) -> None:
    journeys.voice = Voice(VoiceSettings(model=MODEL, base_url=model.base_url, api_key=API_KEY, **limits))


@pytest_asyncio.fixture
async def bot(fake_telegram: FakeTelegram, journeys: Journeys, model: FakeOpenAI) -> AsyncIterator[TelegramHarness]:  # noqa: F811
    switch_on(journeys, model)
    harness = TelegramHarness(fake_telegram, journeys)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


async def started(bot: TelegramHarness, user_id: int = ANN, lang: str = "en") -> Call:
    calls = await bot.send(command("start", user_id=user_id, language_code=lang))
    return questions(calls)[-1]


async def send_voice(bot: TelegramHarness, data: bytes = AUDIO, *, user_id: int = ANN, lang: str = "en", seconds: int = 7, **kw: Any) -> list[Call]:
    declared = kw.pop("size", len(data))
    file_id = bot.fake.add_download(data, "file_7.oga", folder="voice", reported_size=kw.pop("reported_size", None), unsized=kw.pop("unsized", False))
    return await bot.send(voice(file_id, duration=seconds, size=declared, user_id=user_id, language_code=lang, **kw))


def said(calls: list[Call]) -> list[str]:
    return [visible_text(c.text) for c in calls if c.method == "sendMessage"]


# -- the whole way: heard, confirmed, stored as typed ----------------------------------------------
@pytest.mark.parametrize("lang, words", [("en", "Bakery De Zon"), ("nl", "Bakkerij De Zon")])
async def test_a_confirmed_voice_note_is_stored_exactly_as_the_typed_answer(
    bot: TelegramHarness, model: FakeOpenAI, journeys: Journeys, lang: str, words: str  # noqa: F811
) -> None:
    first = await started(bot, ANN, lang)
    model.transcriptions.push(Transcript.of(f"  {words}. "))
    calls = await send_voice(bot, lang=lang)

    heard = questions(calls)[-1]
    assert prompts.say(lang, "messages", "heard.ask", text=f"{words}.") in visible_text(heard.text)
    assert [b["text"] for b in heard.buttons()] == [prompts.say(lang, "messages", "heard.use"), prompts.say(lang, "messages", "heard.retype")]
    assert answers(journeys, owner(ANN)) == {}  # nothing stored before the tap
    assert "getFile" in [c.method for c in calls]
    request = model.transcriptions.requests[-1]
    assert (request.model, request.language, request.filename, request.size) == (MODEL, lang, "voice.ogg", len(AUDIO))
    assert request.data == AUDIO
    assert request.headers["authorization"] == f"Bearer {API_KEY}"

    calls = await bot.send(tap(heard, USE, language_code=lang))
    after_voice = questions(calls)[-1]

    # another owner types the same words at the same question
    assert step_key(await started(bot, BOB, lang)) == step_key(first)
    typed = questions(await bot.send(private_text(f"{words}.", user_id=BOB, language_code=lang)))[-1]
    assert answers(journeys, owner(ANN)) == answers(journeys, owner(BOB)) != {}
    assert answers(journeys, owner(ANN))[step_key(first)]["v"] == f"{words}."
    assert visible_text(after_voice.text) == visible_text(typed.text)  # the next question, the same
    assert model.transcriptions.calls == 1 and model.calls == 0  # no chat completion was asked for


def step_key(call: Call) -> str:
    return call.buttons()[0]["callback_data"].split("|")[1]


async def test_an_audio_file_is_heard_like_a_voice_note(bot: TelegramHarness, model: FakeOpenAI, journeys: Journeys) -> None:  # noqa: F811
    await started(bot)
    model.transcriptions.push(Transcript.of("Corner Bakery"))
    calls = await send_voice(bot, audio_file="memo.m4a", mime_type="audio/mp4")
    assert "Corner Bakery" in visible_text(questions(calls)[-1].text)
    assert model.transcriptions.requests[-1].filename == "voice.m4a"


async def test_retype_stores_nothing_and_asks_again(bot: TelegramHarness, model: FakeOpenAI, journeys: Journeys) -> None:  # noqa: F811
    first = await started(bot, lang="nl")
    model.transcriptions.push(Transcript.of("Bakker De Zon"))
    heard = questions(await send_voice(bot, lang="nl"))[-1]
    calls = await bot.send(tap(heard, RETYPE, language_code="nl"))
    texts = said(calls)
    assert prompts.say("nl", "messages", "heard.retyping") in texts
    assert step_key(questions(calls)[-1]) == step_key(first)  # the same question again
    assert answers(journeys, owner(ANN)) == {}
    # the old button does nothing any more
    calls = await bot.send(tap(heard, USE, language_code="nl"))
    assert answers(journeys, owner(ANN)) == {}
    assert prompts.say("nl", "messages", "stale") in said(calls)


# -- notes that are not taken -------------------------------------------------------------------------
async def test_a_note_declared_too_long_is_not_fetched(bot: TelegramHarness, model: FakeOpenAI, journeys: Journeys) -> None:  # noqa: F811
    await started(bot)
    calls = await send_voice(bot, seconds=121)
    assert said(calls) == ["⚠️ " + prompts.say("en", "messages", "voice.too_long", seconds="121", limit="120")]
    assert "120 seconds" in said(calls)[0]
    assert "getFile" not in [c.method for c in calls] and bot.fake.fetched == []
    assert model.transcriptions.calls == 0
    assert answers(journeys, owner(ANN)) == {}


async def test_a_note_declared_too_big_is_not_fetched(bot: TelegramHarness, model: FakeOpenAI, journeys: Journeys) -> None:  # noqa: F811
    await started(bot, lang="nl")
    calls = await send_voice(bot, lang="nl", size=5_000_001)
    assert said(calls) == ["⚠️ " + prompts.say("nl", "messages", "voice.too_big", limit="5 MB")]
    assert "getFile" not in [c.method for c in calls] and bot.fake.fetched == []
    assert model.transcriptions.calls == 0


async def test_a_note_larger_than_declared_is_not_read_past_the_cap(
    fake_telegram: FakeTelegram, journeys: Journeys, model: FakeOpenAI  # noqa: F811
) -> None:
    switch_on(journeys, model, max_bytes=100_000)
    async with TelegramHarness(fake_telegram, journeys) as bot:
        await started(bot)
        big = AUDIO * 2000  # about 20 MB, said to be 5 kB by the update and by getFile, sent without a length
        calls = await send_voice(bot, big, size=5_000, reported_size=5_000, unsized=True)
        assert said(calls) == ["⚠️ " + prompts.say("en", "messages", "voice.too_big", limit="0.1 MB")]
        assert "getFile" in [c.method for c in calls]
        path = fake_telegram.fetched[-1]
        assert fake_telegram.served[path] < len(big) / 2, fake_telegram.served  # the bot hung up long before the end
        assert model.transcriptions.calls == 0
        assert answers(journeys, owner(ANN)) == {}


@pytest.mark.parametrize("transcript", ["", "   ", "[BLANK_AUDIO]", "[ Silence ] ..."])
async def test_no_words_in_the_note(bot: TelegramHarness, model: FakeOpenAI, journeys: Journeys, transcript: str) -> None:  # noqa: F811
    await started(bot)
    model.transcriptions.push(Transcript.of(transcript))
    calls = await send_voice(bot)
    assert said(calls) == ["⚠️ " + prompts.say("en", "messages", "voice.no_words")]
    assert answers(journeys, owner(ANN)) == {}


async def test_a_transcription_server_error_is_explained_and_not_retried_in_a_storm(
    bot: TelegramHarness, model: FakeOpenAI, journeys: Journeys  # noqa: F811
) -> None:
    await started(bot, lang="nl")
    model.transcriptions.push(Transcript.server_error(), Transcript.server_error(), Transcript.of("too late"))
    calls = await send_voice(bot, lang="nl")
    assert said(calls) == ["⚠️ " + prompts.say("nl", "messages", "voice.failed")]
    assert model.transcriptions.calls == 2  # one try and one retry
    assert answers(journeys, owner(ANN)) == {}


async def test_a_refusing_or_unreachable_server_is_explained(fake_telegram: FakeTelegram, journeys: Journeys, model: FakeOpenAI) -> None:  # noqa: F811
    switch_on(journeys, model)
    async with TelegramHarness(fake_telegram, journeys) as bot:
        await started(bot)
        model.transcriptions.push(Transcript.refused(400, "Invalid file format."))
        assert said(await send_voice(bot)) == ["⚠️ " + prompts.say("en", "messages", "voice.failed")]
        model.api_key = "sk-another-key"  # 401
        assert said(await send_voice(bot)) == ["⚠️ " + prompts.say("en", "messages", "voice.failed")]
        journeys.voice = Voice(VoiceSettings(model=MODEL, base_url="http://127.0.0.1:9/v1", api_key=API_KEY))  # nothing listens
        assert said(await send_voice(bot)) == ["⚠️ " + prompts.say("en", "messages", "voice.failed")]
        assert answers(journeys, owner(ANN)) == {}


async def test_a_slow_server_times_out(fake_telegram: FakeTelegram, journeys: Journeys, model: FakeOpenAI) -> None:  # noqa: F811
    switch_on(journeys, model, timeout=0.3)
    async with TelegramHarness(fake_telegram, journeys) as bot:
        await started(bot)
        model.transcriptions.push(Transcript.of("late", delay=2), Transcript.of("late", delay=2))
        assert said(await send_voice(bot)) == ["⚠️ " + prompts.say("en", "messages", "voice.failed")]


@pytest.mark.parametrize("lang", ["en", "nl"])
async def test_voice_notes_switched_off(fake_telegram: FakeTelegram, journeys: Journeys, lang: str) -> None:  # noqa: F811
    assert journeys.voice is None  # no OPENAI_TRANSCRIBE_MODEL
    async with TelegramHarness(fake_telegram, journeys) as bot:
        await started(bot, lang=lang)
        calls = await send_voice(bot, lang=lang)
        assert said(calls) == ["⚠️ " + prompts.say(lang, "messages", "voice.switched_off")]
        assert "getFile" not in [c.method for c in calls]
        assert answers(journeys, owner(ANN)) == {}


async def test_the_transcript_and_the_key_are_never_logged(
    bot: TelegramHarness, model: FakeOpenAI, journeys: Journeys, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    caplog.set_level(logging.INFO)  # every HTTP request and the transcription's own lines (DEBUG is the libraries' own tracing)
    await started(bot)
    model.transcriptions.push(Transcript.of("Secret Recipe Bakery"))
    heard = questions(await send_voice(bot))[-1]
    await bot.send(tap(heard, USE))
    model.transcriptions.push(Transcript.server_error(), Transcript.server_error())
    await send_voice(bot)
    assert "voice note transcribed" in caplog.text
    assert "Secret Recipe" not in caplog.text
    assert API_KEY not in caplog.text


# -- the engine: Heard is a question of its own ------------------------------------------------------------
def _at_first_question(lang: str = "en") -> engine.State:
    return engine.handle(engine.State(lang=lang), Start()).state


def test_engine_shows_the_transcript_and_stores_only_on_use() -> None:
    state = _at_first_question()
    out = engine.handle(state, Heard("Bakery De Zon"))
    assert out.logged == [] and out.state.pending == HEARD
    question = out.replies[-1]
    assert question.type == "question" and question.step and question.step.startswith("heard.")
    assert out.state.confirm == {"heard": "Bakery De Zon", "step": question.step, "held": None}
    used = engine.handle(out.state, Choice(USE, question.step))
    typed = engine.handle(state, Text("Bakery De Zon"))
    assert used.logged == typed.logged and used.state.answers == typed.state.answers
    assert [r.text for r in used.replies] == [r.text for r in typed.replies]
    assert used.state.pending is None and used.state.confirm is None


def test_engine_typed_text_instead_is_the_answer_and_yes_uses_the_transcript() -> None:
    state = engine.handle(_at_first_question(), Heard("Bakery De Zon")).state
    typed = engine.handle(state, Text("Corner Shop"))
    assert [(i.key, i.value) for i in typed.logged] == [("business.name", "Corner Shop")]
    assert typed.state.confirm is None
    yes = engine.handle(state, Text("yes"))
    assert [(i.key, i.value) for i in yes.logged] == [("business.name", "Bakery De Zon")]
    no = engine.handle(state, Text("nee"))
    assert no.logged == [] and no.state.pending is None and no.state.confirm is None


def test_engine_a_command_drops_the_transcript_and_an_old_button_is_stale() -> None:
    state = engine.handle(_at_first_question(), Heard("Bakery De Zon")).state
    old = state.confirm["step"]  # type: ignore[index]
    skipped = engine.handle(state, Command("skip"))
    assert skipped.state.pending is None and skipped.state.confirm is None and skipped.logged == []
    status = engine.handle(state, Command("status"))
    assert status.state.pending == HEARD  # only showing where the owner is keeps it
    newer = engine.handle(state, Heard("Corner Shop")).state
    stale = engine.handle(newer, Choice(USE, old))
    assert stale.logged == [] and stale.state.pending == HEARD
    assert stale.replies[0].text == prompts.say("en", "messages", "stale")


def test_engine_a_note_on_an_open_question_answers_that_question() -> None:
    """A near choice waits ("did you mean …?"): the note is held, then answers that question."""
    state = _at_first_question()
    state = engine.handle(state, Text("Bakery")).state  # the name; next: the sector
    asked = engine.handle(state, Text("bakkerj"))
    assert asked.state.pending == "confirm"
    held = engine.handle(asked.state, Heard("bakery")).state
    assert held.confirm and held.confirm["held"]["pending"] == "confirm"  # type: ignore[index]
    used = engine.handle(held, Choice(USE, held.confirm["step"]))  # type: ignore[index]
    assert [(i.key, i.value) for i in used.logged] == [("business.sector", "bakery")]


def test_engine_too_much_text_or_none_is_refused() -> None:
    state = _at_first_question("nl")
    long = engine.handle(state, Heard("woord " * 500))
    assert long.state.pending is None and long.logged == []
    assert long.replies[0].text == prompts.say("nl", "messages", "heard.too_long", length=len(("woord " * 500).strip()), limit=2000)
    empty = engine.handle(state, Heard("  "))
    assert empty.replies[0].text == prompts.say("nl", "messages", "heard.empty") and empty.state.pending is None


def test_engine_a_second_note_replaces_the_first_and_keeps_what_was_held() -> None:
    state = engine.handle(_at_first_question(), Heard("one")).state
    again = engine.handle(state, Heard("two")).state
    assert again.confirm and again.confirm["heard"] == "two" and again.confirm["held"] is None
    assert asyncio.iscoroutinefunction(Voice.transcribe)


# -- settings and small pieces -----------------------------------------------------------------------------
def test_voice_is_on_only_with_a_transcription_model(tmp_path: Any) -> None:
    base = {"DATABASE_URL": f"sqlite:///{tmp_path / 'j.db'}"}
    off = Journeys.from_env(base)
    try:
        assert off.voice is None
    finally:
        off.close()
    env = {**base, "OPENAI_TRANSCRIBE_MODEL": "whisper-1", "OPENAI_BASE_URL": "http://127.0.0.1:11434/v1",
           "JOURNEYBOT_VOICE_MAX_SECONDS": "60", "JOURNEYBOT_VOICE_MAX_BYTES": "2000000"}
    on = Journeys.from_env(env)
    try:
        assert on.voice is not None
        assert on.voice.settings == VoiceSettings(model="whisper-1", base_url="http://127.0.0.1:11434/v1", api_key=None, max_seconds=60, max_bytes=2_000_000)
    finally:
        on.close()


def test_the_upload_name_tells_the_server_the_format() -> None:
    from app.voice import VoiceNote, upload_name, words

    assert upload_name(VoiceNote("", "audio/ogg", 3, 10)) == "voice.ogg"  # a Telegram voice note
    assert upload_name(VoiceNote("file_7.oga", None, 3, 10)) == "voice.ogg"
    assert upload_name(VoiceNote("audio_message.webm", "audio/webm", 3, 10)) == "voice.webm"
    assert upload_name(VoiceNote("Audio clip.mp4", "video/mp4", 3, 10)) == "voice.mp4"
    assert upload_name(VoiceNote("memo", "audio/x-m4a", 3, 10)) == "voice.m4a"
    assert words("  [Music]  We  bake [BLANK_AUDIO] bread ") == "We bake bread"
    assert words("...") == "" and words(None) == ""
