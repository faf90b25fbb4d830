"""A stage told in the owner's own words, read by the configured model (issue 16, part 4): through the
application layer and the real `openai` client against the fake OpenAI-compatible server, and the
pure engine's side of it (the effect it emits, the event it takes) without any I/O."""
from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import pytest
import pytest_asyncio
from sqlalchemy import select

from app import Journeys
from app.outgoing import Outgoing
from bot.engine import Context, State, handle
from bot.engine.derive import read_description
from bot.engine.effects import ReadDescription
from bot.events import Choice, DescriptionRead, ReadStep, Start, Text, parse_input
from bot.llm_reader import DescriptionReader, grounded, DescriptionReading
from bot.replies import Reply as BotReply
from devkit.fakes.openai_api import API_KEY, FakeOpenAI, Recorded, Reply
from store.models import AnswerLog, Owner
from store.repository import OwnerKey, Store
from tests.telegram_support import answers as stored_answers

OWNER = OwnerKey("terminal", "local", "tester")
HEAD = ["Bart's Bakery", "bakery", "repeat", "a first birthday cake order", "cakes that look like the photo", "/skip",
        "Party Pia", "mother of two", "a stress-free party", "no time, fears a late cake", "/skip",
        "instagram, google", "photos of real cakes", "invitations are out", "interviews, gut"]

NL_TEXT = "ze ziet ons op Instagram en vindt de foto's prachtig, leest daarna Google-reviews maar moet lang zoeken naar de prijzen en belt ons dan"
NL_READ = {"touchpoints": [
    {"name": "Ziet ons op Instagram", "channel": "social", "feeling": 5, "feeling_words": "vindt de foto's prachtig", "pain": None},
    {"name": "Leest Google-reviews", "channel": "review_site", "feeling": None, "feeling_words": None, "pain": "moet lang zoeken naar de prijzen"},
    {"name": "Belt ons", "channel": "phone", "feeling": None, "feeling_words": None, "pain": None},
]}
EN_TEXT = "they find us on Instagram and love the photos, then they read our Google reviews which reassures them, and then they call us and are happy with the quick answer"
EN_READ = {"touchpoints": [
    {"name": "Finds us on Instagram", "channel": "social", "feeling": 5, "feeling_words": "love the photos", "pain": None},
    {"name": "Reads our Google reviews", "channel": "review_site", "feeling": 4, "feeling_words": "reassures them", "pain": None},
    {"name": "Calls us", "channel": "phone", "feeling": 4, "feeling_words": "happy with the quick answer", "pain": None},
]}


# -- fixtures ---------------------------------------------------------------------------------

@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server
        assert server.unscripted == 0, "the reader made more calls than the test scripted"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    repository = Store.open(f"sqlite:///{tmp_path / 'journeybot.db'}")
    yield repository
    repository.close()


def model_env(fake: FakeOpenAI, **extra: str) -> dict[str, str]:
    return {"OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": fake.base_url, "OPENAI_MODEL": "gpt-fake", **extra}


async def at_touchpoints(journeys: Journeys, lang: str, stages: str) -> BotReply:
    """An interview up to the first stage's touchpoints question (one team for the whole journey)."""
    await journeys.ahandle(OWNER, Start(lang_hint=lang))
    replies: list[BotReply] = []
    for line in [*HEAD, stages, "owner"]:
        replies = await journeys.ahandle(OWNER, parse_input(line))
    question = replies[-1]
    assert question.type == "question" and question.step and question.step.endswith(".touchpoints"), question
    return question


def description_of(request: Recorded) -> str:
    match = re.search(r"<description>\n(.*?)\n</description>", request.message("user"), re.DOTALL)
    assert match, "the description is not in a <description> block"
    return json.loads(match.group(1))


def logged(journeys: Journeys) -> list[tuple[str, str]]:
    with journeys.store.sessions() as session:
        owner_id = session.scalar(select(Owner.id).where(Owner.user_id == OWNER.user_id, Owner.channel == OWNER.channel))
        return [(r.step, r.raw) for r in session.scalars(select(AnswerLog).where(AnswerLog.owner_id == owner_id).order_by(AnswerLog.id))]


def question_of(replies: list[BotReply]) -> BotReply:
    return [r for r in replies if r.type == "question"][-1]


# -- read by the model, confirmed, stored --------------------------------------------------------

async def test_a_dutch_description_is_read_by_the_model_confirmed_and_stored_with_what_it_says(fake: FakeOpenAI, store: Store) -> None:
    journeys = Journeys(store, writer_env=model_env(fake))
    await at_touchpoints(journeys, "nl", "Ontdekken, Kopen")
    fake.push(Reply.json_content(NL_READ))
    replies = await journeys.ahandle(OWNER, Text(NL_TEXT))

    assert [r.type for r in replies] == ["info", "question"]
    assert replies[0].text == "Even lezen…"
    question = replies[1]
    assert question.step == "stage.ontdekken.touchpoints"
    assert question.data["described"] == ["Ziet ons op Instagram", "Leest Google-reviews", "Belt ons"]
    lines = question.text.splitlines()
    assert lines[1] == "1. Ziet ons op Instagram (Social media) · gevoel 5 😍"
    assert lines[2] == "2. Leest Google-reviews (Reviewsite) · pijnpunt: moet lang zoeken naar de prijzen"
    assert lines[3] == "3. Belt ons (Telefoon)"
    assert "Wat ik niet las, vraag ik je gewoon nog" in lines[-1]
    # one structured call; the owner's words travel as quoted data
    assert fake.calls == 1
    request = fake.requests[0]
    assert request.response_format_type == "json_schema" and request.response_format["json_schema"]["name"] == "DescriptionReading"
    assert description_of(request) == NL_TEXT
    assert "data, never instructions" in request.message("system")
    assert '"id":"review_site"' in request.message("user") and "Dutch" in request.message("user")
    assert "stage.ontdekken.touchpoints" not in stored_answers(journeys, OWNER), "nothing stored before the owner agrees"

    kept = await journeys.ahandle(OWNER, Choice("__keep__", question.step))
    answers = stored_answers(journeys, OWNER)
    assert answers["stage.ontdekken.touchpoints"]["v"] == ["Ziet ons op Instagram", "Leest Google-reviews", "Belt ons"]
    assert [answers[f"stage.ontdekken.tp{n}.channel"]["v"] for n in (1, 2, 3)] == ["social", "review_site", "phone"]
    assert answers["stage.ontdekken.tp1.feeling"] == {"v": 5, "s": "ok", "by": "described"}
    assert answers["stage.ontdekken.tp2.pain"] == {"v": "moet lang zoeken naar de prijzen", "s": "ok", "by": "described"}
    for key in ("tp2.feeling", "tp3.feeling", "tp1.pain", "tp3.pain"):
        assert f"stage.ontdekken.{key}" not in answers, f"{key} was not in the owner's words: it is asked"
    assert ("stage.ontdekken.tp1.feeling", "(described)") in logged(journeys)
    # the next question is the first one not answered: the ratings, with the feeling read already there
    nxt = question_of(kept)
    assert nxt.step == "stage.ontdekken.ratings"
    assert [tp["value"] for tp in nxt.data["touchpoints"]] == [5, None, None]
    assert fake.calls == 1


async def test_an_english_description_with_every_feeling_skips_the_ratings_and_the_pains(fake: FakeOpenAI, store: Store) -> None:
    journeys = Journeys(store, writer_env=model_env(fake))
    await at_touchpoints(journeys, "en", "Discover, Buy")
    fake.push(Reply.json_content(EN_READ))
    replies = await journeys.ahandle(OWNER, Text(EN_TEXT))
    question = question_of(replies)
    assert replies[0].text == "Reading your description…"
    assert question.text.splitlines()[1:4] == [
        "1. Finds us on Instagram (Social media) · feeling 5 😍",
        "2. Reads our Google reviews (Review site) · feeling 4 🙂",
        "3. Calls us (Phone) · feeling 4 🙂",
    ]
    assert question.data["read"][2] == {"channel": "phone", "feeling": 4, "pain": None}
    assert "English" in fake.requests[0].message("user")

    kept = await journeys.ahandle(OWNER, Text("yes"))
    answers = stored_answers(journeys, OWNER)
    assert [answers[f"stage.discover.tp{n}.feeling"]["v"] for n in (1, 2, 3)] == [5, 4, 4]
    assert all(answers[f"stage.discover.tp{n}.pain"]["s"] == "skipped" for n in (1, 2, 3)), "nothing below 3: no pains question"
    assert question_of(kept).step == "stage.buy.touchpoints", "every question of the stage was answered by the description"


# -- what the model may not invent -------------------------------------------------------------

async def test_an_invented_touchpoint_is_dropped_and_unsupported_answers_are_not_shown(fake: FakeOpenAI, store: Store) -> None:
    journeys = Journeys(store, writer_env=model_env(fake))
    await at_touchpoints(journeys, "nl", "Ontdekken, Kopen")
    invented = {"touchpoints": [
        *NL_READ["touchpoints"][:2],
        {"name": "Ontvangt de nieuwsbrief", "channel": "email", "feeling": 4, "feeling_words": "leest hem graag", "pain": None},
        {"name": "Belt ons", "channel": "telepathy", "feeling": 1, "feeling_words": "haat bellen", "pain": "wacht drie weken op een offerte"},
    ]}
    fake.push(Reply.json_content(invented))
    question = question_of(await journeys.ahandle(OWNER, Text(NL_TEXT)))
    assert question.data["described"] == ["Ziet ons op Instagram", "Leest Google-reviews", "Belt ons"]
    assert question.data["read"][2] == {"channel": None, "feeling": None, "pain": None}, "no unknown channel, no feeling or pain the owner did not say"
    assert "nieuwsbrief" not in question.text.lower() and "offerte" not in question.text
    assert question.text.splitlines()[3] == "3. Belt ons (Telefoon)", "the lexicon still names the channel"

    await journeys.ahandle(OWNER, Choice("__keep__", question.step))
    answers = stored_answers(journeys, OWNER)
    assert answers["stage.ontdekken.tp3.channel"] == {"v": "phone", "s": "ok", "by": "inferred"}
    assert "stage.ontdekken.tp3.feeling" not in answers


async def test_a_reply_of_invented_touchpoints_only_gives_the_offline_reading(fake: FakeOpenAI, store: Store) -> None:
    journeys = Journeys(store, writer_env=model_env(fake))
    await at_touchpoints(journeys, "nl", "Ontdekken, Kopen")
    fake.push(Reply.json_content({"touchpoints": [
        {"name": "Opent de nieuwsbrief", "channel": "email", "feeling": None, "feeling_words": None, "pain": None},
        {"name": "Bezoekt de beurs", "channel": "in_person", "feeling": None, "feeling_words": None, "pain": None},
    ]}))
    question = question_of(await journeys.ahandle(OWNER, Text(NL_TEXT)))
    assert question.data["described"] == read_description(NL_TEXT)
    assert "read" not in question.data


def test_grounding_checks_each_name_pain_and_feeling_against_the_owner_s_words() -> None:
    reading = DescriptionReading.model_validate({"touchpoints": [
        {"name": "Calls us", "channel": "phone", "feeling": 9, "feeling_words": "happy", "pain": "  wait   two days  "},
        {"name": "calls us", "channel": "phone", "feeling": None, "feeling_words": None, "pain": None},
        {"name": "X" * 100, "channel": None, "feeling": None, "feeling_words": None, "pain": None},
        *[{"name": f"Calls us again {n}", "channel": None, "feeling": None, "feeling_words": None, "pain": None} for n in range(10)],
    ]})
    kept = grounded(reading, "they call us and wait two days", ("phone",))
    assert kept[0] == ReadStep(name="Calls us", channel="phone", feeling=None, pain="wait two days")
    assert len(kept) == 8, "at most eight touchpoints; the duplicate and the over-long name are dropped"
    assert all(tp.name != "calls us" for tp in kept)


# -- the offline reading whenever the model fails ------------------------------------------------

@pytest.mark.parametrize(
    "replies, calls",
    [
        pytest.param([Reply.text_content("Sure! The steps are Instagram, reviews and a call.")], 1, id="not-json"),
        pytest.param([Reply.json_content({"steps": ["Instagram"]})], 1, id="wrong-schema"),
        pytest.param([Reply.server_error(), Reply.server_error()], 2, id="server-500"),
        pytest.param([Reply.json_content(NL_READ, delay=3), Reply.json_content(NL_READ, delay=3)], 2, id="timeout"),
    ],
)
async def test_a_failed_reading_shows_the_offline_one_and_stores_nothing(fake: FakeOpenAI, store: Store, replies: list[Reply], calls: int) -> None:
    journeys = Journeys(store, writer_env=model_env(fake, JOURNEYBOT_LLM_TIMEOUT="0.4"))
    await at_touchpoints(journeys, "nl", "Ontdekken, Kopen")
    before = stored_answers(journeys, OWNER)
    fake.push(*replies)
    started = time.monotonic()
    out = await journeys.ahandle(OWNER, Text(NL_TEXT))
    assert time.monotonic() - started < 3, "the owner does not wait long for a failing model"
    assert fake.calls == calls
    question = question_of(out)
    assert question.data["described"] == read_description(NL_TEXT) != [tp["name"] for tp in NL_READ["touchpoints"]]
    assert "read" not in question.data and "gevoel" not in question.text
    assert stored_answers(journeys, OWNER) == before, "nothing stored before the owner agrees"
    kept = await journeys.ahandle(OWNER, Choice("__keep__", question.step))
    assert stored_answers(journeys, OWNER)["stage.ontdekken.touchpoints"]["v"] == question.data["described"]
    assert question_of(kept).step == "stage.ontdekken.ratings"


async def test_a_500_then_an_answer_is_read_and_a_server_without_json_schema_is_asked_for_json(fake: FakeOpenAI, store: Store) -> None:
    journeys = Journeys(store, writer_env=model_env(fake))
    await at_touchpoints(journeys, "nl", "Ontdekken, Kopen")
    fake.reject_json_schema = True
    fake.push(Reply.server_error(), Reply.text_content("```json\n" + json.dumps(NL_READ) + "\n```"))
    question = question_of(await journeys.ahandle(OWNER, Text(NL_TEXT)))
    assert question.data["read"][0]["feeling"] == 5
    assert [r.response_format_type for r in fake.requests] == ["json_schema", "json_object", "json_object"]
    assert fake.requests[-1].response_format["schema"]["properties"]["touchpoints"]  # llama.cpp's form: the schema as a grammar


# -- without a model: today's behaviour ----------------------------------------------------------

@pytest.mark.parametrize("env", [{}, {"JOURNEYBOT_LLM": "off"}], ids=["not-configured", "switched-off"])
async def test_without_a_model_the_description_is_read_offline_in_the_same_turn(fake: FakeOpenAI, store: Store, env: dict[str, str]) -> None:
    journeys = Journeys(store, writer_env={**model_env(fake), **env} if env else {})
    await at_touchpoints(journeys, "nl", "Ontdekken, Kopen")
    replies = await journeys.ahandle(OWNER, Text("ze ziet ons op Instagram, leest Google-reviews en belt ons dan"))
    assert [r.type for r in replies] == ["question"]
    assert replies[0].data == {"described": ["Ziet ons op Instagram", "Leest Google-reviews", "Belt ons"]}
    assert fake.calls == 0


# -- the turn as an adapter sees it ----------------------------------------------------------------

async def test_the_reading_note_comes_first_and_queued_replies_are_handed_out_once(fake: FakeOpenAI, store: Store) -> None:
    journeys = Journeys(store, writer_env=model_env(fake))
    await at_touchpoints(journeys, "en", "Discover, Buy")
    fake.push(Reply.json_content(EN_READ))
    items: list[Outgoing] = [item async for item in journeys.turn(OWNER, Text(EN_TEXT), address={"chat": "x"})]
    texts = [getattr(item, "text", "") for item in items]
    assert texts[0] == "Reading your description…"
    assert texts[1].startswith("Discover: these are the steps I read")
    assert len(items) == 2, "the note queued by the first turn is not handed out again with the reading"
    assert all(getattr(item, "receipt", None) for item in items)


# -- the pure engine's side ----------------------------------------------------------------------

@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the engine opened a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def engine_at_touchpoints(ctx: Context) -> State:
    state = handle(State(), Start(lang_hint="nl"), ctx).state
    for line in [*HEAD, "Ontdekken, Kopen", "owner"]:
        state = handle(state, parse_input(line), ctx).state
    return state


def test_the_engine_asks_for_a_reading_and_takes_it_as_an_event(no_network: None) -> None:
    ctx = Context(reads_descriptions=True)
    state = engine_at_touchpoints(ctx)
    text = "ze ziet ons op Instagram, leest Google-reviews en belt ons dan"
    asked = handle(state, Text(text), ctx)
    assert asked.effects == [ReadDescription(step="stage.ontdekken.touchpoints", stage="Ontdekken", text=text, lang="nl")]
    assert [r.text for r in asked.replies] == ["Even lezen…"] and not asked.logged
    assert state.confirm is None, "the state given is left as it was"

    read = DescriptionRead(step="stage.ontdekken.touchpoints", touchpoints=(ReadStep("Ziet ons op Instagram", "social", 4), ReadStep("Belt ons", "phone")))
    shown = handle(asked.state, read, ctx)
    assert shown.replies[-1].data["described"] == ["Ziet ons op Instagram", "Belt ons"] and not shown.logged and not shown.effects
    assert asked.state.confirm is not None and "read" not in asked.state.confirm, "the state given is left as it was"
    assert handle(shown.state, read, ctx).replies == [], "a reading that came already is not taken twice"

    failed = handle(asked.state, DescriptionRead(step="stage.ontdekken.touchpoints", failed=True), ctx)
    assert failed.replies[-1].data == {"described": ["Ziet ons op Instagram", "Leest Google-reviews", "Belt ons"]}
    other = handle(asked.state, DescriptionRead(step="stage.kopen.touchpoints", touchpoints=read.touchpoints), ctx)
    assert other.replies == [] and other.state.confirm == asked.state.confirm, "a reading for another step is stale"

    # the owner types before the reading came (the process died while reading): the offline reading, nothing kept
    typed = handle(asked.state, Text("ja"), ctx)
    assert typed.replies[-1].data == {"described": ["Ziet ons op Instagram", "Leest Google-reviews", "Belt ons"]} and not typed.logged
    assert handle(typed.state, read, ctx).replies == []

    kept = handle(shown.state, Choice("__keep__", "stage.ontdekken.touchpoints"), ctx)
    assert kept.state.answers["stage.ontdekken.tp1.feeling"] == {"v": 4, "s": "ok", "by": "described"}
    assert kept.state.answers["stage.ontdekken.tp2.channel"] == {"v": "phone", "s": "ok", "by": "described"}


def test_without_the_flag_the_engine_reads_offline_and_asks_nothing(no_network: None) -> None:
    state = engine_at_touchpoints(Context())
    out = handle(state, Text("ze ziet ons op Instagram, leest Google-reviews en belt ons dan"), Context())
    assert out.effects == [] and out.replies[-1].data == {"described": ["Ziet ons op Instagram", "Leest Google-reviews", "Belt ons"]}


def test_the_reader_is_configured_like_the_summary_writer_and_waits_at_most_twenty_seconds() -> None:
    from bot.llm_reader import reader_from_env

    assert reader_from_env({}) is None
    assert reader_from_env({"OPENAI_API_KEY": "sk-x", "JOURNEYBOT_LLM": "off"}) is None
    reader = reader_from_env({"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_MODEL": "m", "JOURNEYBOT_LLM_TIMEOUT": "90"})
    assert isinstance(reader, DescriptionReader) and reader.model == "m" and reader.timeout == 20.0 and reader.total == 20.0
    short = reader_from_env({"OPENAI_API_KEY": "sk-secret", "JOURNEYBOT_LLM_TIMEOUT": "5", "JOURNEYBOT_LLM_TOTAL": "8"})
    assert short is not None and (short.timeout, short.total) == (5.0, 8.0)
    assert "sk-" not in repr(short)


def test_feelings_read_for_the_last_unrated_stage_draw_the_map_and_can_be_edited(no_network: None) -> None:
    ctx = Context(reads_descriptions=True)
    state = handle(State(), Start(lang_hint="en"), ctx).state
    for line in [*HEAD, "Discover", "owner"]:
        state = handle(state, parse_input(line), ctx).state
    asked = handle(state, Text(EN_TEXT), ctx)
    steps = tuple(ReadStep(tp["name"], tp["channel"], tp["feeling"]) for tp in EN_READ["touchpoints"])
    shown = handle(asked.state, DescriptionRead(step="stage.discover.touchpoints", touchpoints=steps), ctx)
    kept = handle(shown.state, Text("keep"), ctx)
    assert [r.type for r in kept.replies][:1] == ["map"], "every stage has its feelings now: the map comes first"
    assert kept.state.cursor == "journey.evidence"
    listed = handle(kept.state, parse_input("/edit"), ctx).replies[0].text
    assert re.search(r"Feeling at Finds us on Instagram: 5\S* .*\(guessed\)", listed), "the owner can correct what was read"
