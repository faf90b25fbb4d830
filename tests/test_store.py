"""Store round trips on SQLite and PostgreSQL: answers, projection, log, isolation, dedup, forget."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.events import Command, Start, Text
from app import Journeys, OwnerKey
from store.db import database_url
from store.models import AnswerLog, Business, Conversation, Journey, Owner, Persona, ProcessedEvent, Stage, Summary, Touchpoint
from store.repository import JourneyNotFound, Store
from bot.engine.derive import infer_channel
from devkit.drive import type_lines
from devkit.scripts import B2B_EN, BAKERY_NL

ALICE = OwnerKey("telegram", "", "1001")
BOB = OwnerKey("slack", "T1", "U2")


def count(repo: Store, model, **where) -> int:
    return repo.count_rows(model, **where)


def test_database_url_picks_the_driver():
    assert database_url({"DATABASE_URL": "postgresql://u@h/db"}) == "postgresql+psycopg://u@h/db"
    assert database_url({"DATABASE_URL": "postgres://u@h/db"}) == "postgresql+psycopg://u@h/db"
    assert database_url({"DATABASE_URL": "sqlite:///x.db"}) == "sqlite:///x.db"
    assert database_url({}).startswith("sqlite:///") and database_url({}).endswith("journeybot.db")


def test_full_journey_round_trip(journeys: Journeys):
    repo = journeys.store
    type_lines(journeys, ALICE, BAKERY_NL)
    assert count(repo, Journey) == 1
    with repo.sessions() as session:
        journey = session.scalar(select(Journey))
        assert journey.complete and journey.title == "Bakkerij De Korenschoof – Feestende Fenna"
        assert journey.goal == "repeat" and journey.answered == journey.total
        persona = session.get(Persona, journey.persona_id)
        assert persona.name == "Feestende Fenna" and persona.channels == ["instagram", "whatsapp", "word_of_mouth", "google"]
        assert persona.sources == ["interviews", "gut"]
        business = session.get(Business, journey.business_id)
        assert business.name == "Bakkerij De Korenschoof" and business.sector == "bakery"
        stages = session.scalars(select(Stage).where(Stage.journey_id == journey.id).order_by(Stage.position)).all()
        assert [s.name for s in stages][:2] == ["Bewustwording", "Overweging"] and len(stages) == 6
        pickup = session.scalar(select(Touchpoint).where(Touchpoint.name == "Taart ophalen"))
        assert (pickup.channel, pickup.feeling, pickup.pain, pickup.team) == ("shop", 2, "Rij van twintig minuten op zaterdag", "delivery")
        # per stage teams: the touchpoints of a stage carry the stage's team
        assert [t.team for t in session.scalars(select(Touchpoint).where(Touchpoint.stage_id == stages[0].id))] == ["marketing", "marketing"]
        unknown = session.scalar(select(Touchpoint).where(Touchpoint.name == "Geen contact na het feest"))
        # "weet ik niet" for the stage's team (and for the channel, when the name does not say it)
        assert unknown.channel == infer_channel("Geen contact na het feest") and unknown.team is None and unknown.feeling == 1
        assert unknown.pain == "We horen nooit hoe het feest was"
        instagram = session.scalar(select(Touchpoint).where(Touchpoint.name == "Instagram-post van een vriendin"))
        assert (instagram.channel, instagram.feeling, instagram.pain, instagram.team) == ("social", 4, None, "marketing")
    # the log holds every answer, in order, exactly as typed; the answers filled for the owner
    # (inferred channels, a stage's ratings and team per touchpoint, the journey's evidence per stage)
    # are logged as "(by)" with the journey's answer carrying that "by"
    with repo.sessions() as session:
        rows = session.execute(select(AnswerLog.step, AnswerLog.raw).order_by(AnswerLog.id)).all()
        answers = dict(session.scalar(select(Journey)).answers)
    typed = [r.raw for r in rows if not (answers.get(r.step) or {}).get("by")]
    filled = [r for r in rows if (answers.get(r.step) or {}).get("by")]
    assert typed == BAKERY_NL[1:]
    assert filled and all(r.raw == f"({answers[r.step]['by']})" for r in filled)
    assert {r.step for r in filled} >= {f"stage.{s.slug}.evidence" for s in stages}


def test_answers_survive_a_new_repository(db_url: str):
    first = Store.open(database_url({"DATABASE_URL": db_url}))
    journeys = Journeys(first)
    type_lines(journeys, ALICE, ["en", "Bakery Bart", "1"])
    first.close()
    second = Journeys(Store.open(database_url({"DATABASE_URL": db_url})))
    replies = second.handle(ALICE, Start())
    assert replies[0].text.startswith("Welcome back") and replies[-1].step == "journey.goal"
    second.close()


def test_back_keeps_the_log_append_only(journeys: Journeys):
    type_lines(journeys, ALICE, ["en", "Bakery Bart", "/back", "Bakery Bert"])
    with journeys.store.sessions() as session:
        rows = session.execute(select(AnswerLog.step, AnswerLog.raw).order_by(AnswerLog.id)).all()
    assert [(r.step, r.raw) for r in rows] == [("business.name", "Bakery Bart"), ("business.name", "Bakery Bert")]
    journey_id = journeys.store.current_journey_id(ALICE)
    assert journeys.view(ALICE, journey_id).business_name == "Bakery Bert"


def test_owners_never_see_each_other(journeys: Journeys):
    type_lines(journeys, ALICE, ["en", "Alice's Bakery"])
    alice_journey = journeys.store.current_journey_id(ALICE)
    type_lines(journeys, BOB, ["en", "Bob's Garage"])
    with pytest.raises(JourneyNotFound):
        journeys.view(BOB, alice_journey)
    with pytest.raises(JourneyNotFound):
        asyncio.run(journeys.export(BOB, alice_journey))
    replies = journeys.handle(BOB, Command("open", str(alice_journey)))
    assert replies[0].type == "error"
    listing = journeys.handle(BOB, Command("list"))
    assert "Alice" not in listing[0].text and "Bob's Garage" in listing[0].text
    # same user id on another channel or workspace is another owner
    other = OwnerKey("slack", "T9", "U2")
    assert journeys.store.list_journeys(other) == []


def test_several_journeys_per_owner(journeys: Journeys):
    type_lines(journeys, ALICE, ["en", "Bakery Bart", "1", "leads", "a first order", "fresh bread daily", "/skip", "Brenda"])
    first = journeys.store.current_journey_id(ALICE)
    replies = journeys.handle(ALICE, Command("new"))
    assert replies[-1].step == "business.name"
    journeys.handle(ALICE, Text("Bakery Bart"))
    second = journeys.store.current_journey_id(ALICE)
    assert second != first
    assert [r.id for r in journeys.store.list_journeys(ALICE)] == [first, second]
    back = journeys.handle(ALICE, Command("open", str(first)))
    assert back[-1].step == "persona.role" and "Brenda" in back[-1].text
    assert journeys.store.current_journey_id(ALICE) == first
    with journeys.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Business)) == 1  # same business reused


def test_redelivered_event_is_recorded_once(journeys: Journeys):
    type_lines(journeys, ALICE, ["en"])
    first = journeys.handle(ALICE, Text("Bakery Bart"), dedup_key="tg:42")
    again = journeys.handle(ALICE, Text("Bakery Bart"), dedup_key="tg:42")
    assert first and again == []
    assert count(journeys.store, AnswerLog) == 1
    assert count(journeys.store, ProcessedEvent) == 1


def test_forget_leaves_no_rows(journeys: Journeys):
    type_lines(journeys, ALICE, BAKERY_NL[:25])
    type_lines(journeys, BOB, ["en", "Bob's Garage"])
    journey_id = journeys.store.current_journey_id(ALICE)
    journeys.handle(ALICE, Command("summary"))
    import asyncio

    asyncio.run(journeys.report(ALICE, journey_id))
    ask = journeys.handle(ALICE, Command("forget"))
    assert ask[-1].step == "meta.forget"
    done = journeys.handle(ALICE, Text("ja"))
    assert done[-1].type == "forgotten"
    repo = journeys.store
    bob_only = {Owner: 1, Journey: 1, Persona: 1, Business: 1, Conversation: 1, AnswerLog: 1, Stage: 0, Touchpoint: 0, Summary: 0, ProcessedEvent: 0}
    assert {model: count(repo, model) for model in bob_only} == bob_only
    assert journeys.store.list_journeys(BOB)


def test_unicode_and_sql_looking_text_is_stored_exactly(journeys: Journeys):
    weird = "Robert'); DROP TABLE journeys;-- 🍰 שלום \u202e <b>&amp;</b> \x07 | `x`"
    type_lines(journeys, ALICE, ["en", weird])
    journey_id = journeys.store.current_journey_id(ALICE)
    assert journeys.view(ALICE, journey_id).business_name == weird.strip()
    assert count(journeys.store, Journey) == 1


def test_old_event_ids_are_pruned(journeys: Journeys):
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import update

    type_lines(journeys, ALICE, ["en"])
    journeys.handle(ALICE, Text("Bakery Bart"), dedup_key="tg:1")
    journeys.handle(ALICE, Text("1"), dedup_key="tg:2")
    with journeys.store.sessions.begin() as session:
        session.execute(update(ProcessedEvent).where(ProcessedEvent.key == "tg:1").values(created_at=datetime.now(timezone.utc) - timedelta(days=8)))
    journeys.reminders("telegram")
    with journeys.store.sessions() as session:
        assert session.scalars(select(ProcessedEvent.key)).all() == ["tg:2"]


def test_an_unreachable_database_is_reported_without_its_password(monkeypatch, capsys):
    from handlers import cli

    monkeypatch.setenv("DATABASE_URL", "postgresql://owner:s3cret-pw@127.0.0.1:1/journeybot")
    assert cli.main(["list", "--user", "x"]) == 2
    err = capsys.readouterr().err
    assert "cannot be reached" in err and "127.0.0.1:1" in err
    assert "s3cret-pw" not in err
