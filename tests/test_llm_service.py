"""The LLM writer behind the application layer: the summaries cache, token accounting and `stats`."""
from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.flow import stage_slugs, touchpoint_key
from bot.llm_writer import LLMWriter, RetryPolicy
from app import Journeys
from app.reports import writer_from_env
from store.models import Journey, Owner, Summary
from store.repository import OwnerKey, Store
from handlers.stats import format_stats
from store.stats import summary_stats
from devkit.fakes.openai_api import API_KEY, FakeOpenAI, Reply
from devkit.llm_support import TODAY, bakery_answers, good_llm_report

OWNER = OwnerKey("terminal", "local", "tester")
MODEL = "gpt-fake"


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server
        assert server.unscripted == 0


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Store]:
    repository = Store.open(f"sqlite:///{tmp_path / 'journeybot.db'}")
    yield repository
    repository.close()


async def _no_sleep(seconds: float) -> None:
    return None


def llm_writer(fake: FakeOpenAI, model: str = MODEL) -> LLMWriter:
    return LLMWriter(
        model=model,
        api_key=API_KEY,
        base_url=fake.base_url,
        timeout=2.0,
        policy=RetryPolicy(attempts=3, total=20.0, multiplier=0.01, max_wait=0.02, jitter=0.01),
        today=lambda: TODAY,
        sleep=_no_sleep,
    )


def add_journey(repo: Store, lang: str = "en") -> int:
    def work(session) -> int:
        owner = session.scalar(select(Owner).where(Owner.user_id == OWNER.user_id))
        if owner is None:
            owner = Owner(channel=OWNER.channel, workspace=OWNER.workspace, user_id=OWNER.user_id)
            session.add(owner)
            session.flush()
        journey = Journey(owner_id=owner.id, title="Bakery", lang=lang, answers=bakery_answers(lang))
        session.add(journey)
        session.flush()
        return journey.id

    return repo.write(work)


def change_answer(repo: Store, journey_id: int, key: str, value: object) -> None:
    def work(session) -> None:
        journey = session.get(Journey, journey_id)
        journey.answers = {**journey.answers, key: {"v": value, "s": "ok"}}

    repo.write(work)


def summaries(repo: Store) -> list[Summary]:
    return repo.write(lambda session: list(session.scalars(select(Summary).order_by(Summary.id))))


async def test_same_answers_are_served_from_the_cache_and_a_change_calls_again(fake: FakeOpenAI, repo: Store) -> None:
    journeys = Journeys(repo, llm_writer(fake), today=lambda: TODAY)
    journey_id = add_journey(repo)
    fake.default = Reply.json_content(good_llm_report())

    first = await journeys.report(OWNER, journey_id)
    assert fake.calls == 1 and first.generator == f"llm:{MODEL}"

    again = await journeys.report(OWNER, journey_id)
    assert fake.calls == 1, "same answers, prompt version and model: no call"
    assert again == first

    stages = bakery_answers()["journey.stages"]["v"]
    slug = stage_slugs(stages)[2]
    change_answer(repo, journey_id, touchpoint_key(slug, 2, "touchpoint.pain"), "waits 45 minutes at the counter")
    changed = await journeys.report(OWNER, journey_id)
    assert fake.calls == 2, "a changed answer: a new call"
    assert changed.generator == f"llm:{MODEL}"

    # another model is another cache entry
    other = Journeys(repo, llm_writer(fake, model="gpt-other"), today=lambda: TODAY)
    await other.report(OWNER, journey_id)
    assert fake.calls == 3

    rows = summaries(repo)
    assert len(rows) == 3
    assert all(r.prompt_version == "summary.v2" and r.calls == 1 and r.prompt_tokens > 500 and r.completion_tokens > 50 for r in rows)
    assert [r.model for r in rows] == [MODEL, MODEL, "gpt-other"]
    assert not any(r.fallback for r in rows)


async def test_a_fallback_is_stored_but_never_served_from_the_cache(fake: FakeOpenAI, repo: Store) -> None:
    journeys = Journeys(repo, llm_writer(fake), today=lambda: TODAY)
    journey_id = add_journey(repo)
    fake.push(Reply.server_error(), Reply.server_error(), Reply.server_error())

    report = await journeys.report(OWNER, journey_id)
    assert fake.calls == 3 and report.generator == "coach" and "could not be reached" in report.notice

    fake.push(Reply.json_content(good_llm_report()))
    report = await journeys.report(OWNER, journey_id)
    assert fake.calls == 4 and report.generator == f"llm:{MODEL}" and report.notice.startswith("The writing assistant worded the story")

    # and now it is cached
    await journeys.report(OWNER, journey_id)
    assert fake.calls == 4

    rows = summaries(repo)
    assert [(r.fallback, r.calls) for r in rows] == [(True, 3), (False, 1)]


async def test_export_markdown_carries_the_llm_texts(fake: FakeOpenAI, repo: Store) -> None:
    journeys = Journeys(repo, llm_writer(fake), today=lambda: TODAY)
    journey_id = add_journey(repo)
    fake.push(Reply.json_content(good_llm_report()))
    export = await journeys.export(OWNER, journey_id)
    text = export.data.decode("utf-8").replace("\\", "")
    assert "Sanne plans her wedding on her phone" in text and "Make the deposit painless" in text
    assert "```mermaid" in export.data.decode("utf-8")
    assert fake.calls == 1


async def test_stats_count_calls_tokens_and_fallbacks(fake: FakeOpenAI, repo: Store) -> None:
    journeys = Journeys(repo, llm_writer(fake), today=lambda: TODAY)
    first = add_journey(repo)
    second = add_journey(repo, "nl")
    fake.push(Reply.rate_limited(retry_after=0), Reply.json_content(good_llm_report()))
    await journeys.report(OWNER, first)
    fake.push(Reply.text_content("OK"), Reply.text_content("OK"))
    await journeys.report(OWNER, second)
    await journeys.report(OWNER, first)  # cached: no row, no call
    assert fake.calls == 4

    stats = summary_stats(repo.engine)
    assert [r.generator for r in stats.rows] == [f"llm:{MODEL}"]
    row = stats.rows[0]
    assert row.summaries == 2 and row.calls == 4 and row.fallbacks == 1
    assert row.prompt_tokens == sum(r.prompt_tokens for r in summaries(repo)) > 1000
    assert stats.total().calls == 4
    table = format_stats(stats)
    assert f"llm:{MODEL}" in table and "fallbacks" in table
    assert stats.as_dict()["total"]["fallbacks"] == 1


def test_stats_on_an_empty_database(repo: Store) -> None:
    stats = summary_stats(repo.engine)
    assert stats.rows == [] and stats.total().calls == 0
    assert format_stats(stats) == "No summaries written yet."


def test_service_picks_the_writer_from_the_environment() -> None:
    assert writer_from_env({}, lambda: TODAY).name == "coach"
    assert writer_from_env({"OPENAI_API_KEY": "sk-x", "JOURNEYBOT_LLM": "off"}, lambda: TODAY).name == "coach"
    writer = writer_from_env({"OPENAI_API_KEY": "sk-x", "OPENAI_MODEL": "gpt-4.1"}, lambda: TODAY)
    assert writer.name == "llm:gpt-4.1" and isinstance(writer, LLMWriter)
    assert writer_from_env({"OPENAI_BASE_URL": "http://127.0.0.1:11434/v1"}, lambda: TODAY).name.startswith("llm:")


async def test_journeybot_stats_command(fake: FakeOpenAI, repo: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    journeys = Journeys(repo, llm_writer(fake), today=lambda: TODAY)
    fake.push(Reply.json_content(good_llm_report()))
    await journeys.report(OWNER, add_journey(repo))

    from handlers.cli import main

    monkeypatch.setenv("DATABASE_URL", str(repo.engine.url))
    monkeypatch.setenv("JOURNEYBOT_LANG", "nl")
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["stats"]) == 0
    out = capsys.readouterr().out
    assert "aanroepen" in out and f"llm:{MODEL}" in out and "totaal" in out


async def test_journeybot_export_carries_the_models_write_up_and_uses_its_cache(fake: FakeOpenAI, repo: Store, tmp_path: Path) -> None:
    """`journeybot export` writes with the configured model, like /export in the chat, and serves a
    second export of unchanged answers from the summaries cache."""
    import asyncio
    import os
    import sys

    journey_id = add_journey(repo)
    fake.push(Reply.json_content(good_llm_report()))
    env = {
        **os.environ,
        "DATABASE_URL": str(repo.engine.url),
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_API_KEY": API_KEY,
        "OPENAI_MODEL": MODEL,
        "JOURNEYBOT_USER": OWNER.user_id,
        "JOURNEYBOT_LANG": "en",
    }

    async def export(path: Path) -> str:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "handlers.cli", "export", str(journey_id), "-o", str(path), env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode == 0, err.decode()
        return path.read_text(encoding="utf-8").replace("\\", "")

    first = await export(tmp_path / "first.md")
    assert "Sanne plans her wedding on her phone" in first and "Make the deposit painless" in first
    assert f"llm:{MODEL}" in first and fake.calls == 1
    second = await export(tmp_path / "second.md")
    assert "Make the deposit painless" in second and fake.calls == 1, "unchanged answers: served from the cache"
