"""The turn: load what the engine needs, run the pure engine, save what it changed, apply its effects.

All of it happens inside one store transaction (`Store.turn`), which may run it again after a
conflict, so nothing here has side effects outside the transaction object.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from bot import engine
from bot.engine.effects import (
    AddSurveyAnswers,
    Effect,
    ForgetOwner,
    JourneyCompleted,
    NewJourney,
    OpenJourney,
    ReadDescription,
    SaveVersion,
    SetTodoStatus,
)
from bot.events import Command, Event
from bot.flow import Flow
from bot.replies import Reply
from bot.review_rhythm import next_review, rhythm_of
from bot.vocabulary import SHOW, TodoRef
from app.projection import row_changes
from store.records import ConversationWrite, JourneyChanges, JourneyRecord, Loaded, LogEntry
from store.turn import TurnTx


@dataclass(frozen=True)
class TurnInput:
    event: Event
    lang_hint: str | None
    flow: Flow
    reads: bool = False  # a model reads a stage told in own words (app/reading.py)
    # the readings the stored turn asks for, to make after its commit (the turn may run twice: the
    # last run's list is the one that was stored)
    asked: list[ReadDescription] = field(default_factory=list)


def state_of(loaded: Loaded, journey: JourneyRecord | None) -> engine.State:
    saved = loaded.state
    state = engine.State(
        lang=loaded.lang,
        journey_id=journey.id if journey is not None else None,
        cursor=saved.get("cursor"),
        pending=saved.get("pending"),
        paused=bool(saved.get("paused", False)),
        complete=bool(saved.get("complete", False)) if journey is not None else False,
        selection=list(saved.get("selection") or []),
        followup=saved.get("followup"),
        review=list(saved.get("review") or []),
        version_due=bool(saved.get("version_due", False)),
        confirm=saved.get("confirm") or None,
        resume=saved.get("resume"),
        last_answer=saved.get("last_answer") if isinstance(saved.get("last_answer"), dict) else None,
        answers=dict(journey.answers) if journey is not None else {},
    )
    if journey is None and loaded.journey_id is not None:
        state.cursor = None  # the journey it pointed at is gone
        state.resume = state.last_answer = None
    return state


def opened_state(journey: JourneyRecord, lang: str | None) -> engine.State:
    """A journey just opened with /open: at its first open question, nothing pending."""
    return engine.State(lang=lang, journey_id=journey.id, complete=journey.complete, answers=dict(journey.answers))


def context(tx: TurnTx, state: engine.State, event: Event, given: TurnInput) -> engine.Context:
    wanted = engine.needs(state, event)
    journeys = [engine.JourneyRef(id=j.id, title=j.title, answered=j.answered, total=j.total) for j in tx.journeys()] if "journeys" in wanted else []
    todos = [TodoRef(id=t.id, kind=t.kind, title=t.title, status=t.status) for t in tx.todos(state.journey_id)] if "todos" in wanted else []
    imports = frozenset(tx.survey_imports(state.journey_id)) if "imports" in wanted and state.journey_id is not None else frozenset()
    return engine.Context(flow=given.flow, lang_hint=given.lang_hint, journeys=journeys, todos=todos, imports=imports, reads_descriptions=given.reads)


def run_turn(tx: TurnTx, given: TurnInput) -> list[Reply]:
    given.asked.clear()
    journey = tx.loaded.journey
    state = state_of(tx.loaded, journey)
    outcome = engine.handle(state, given.event, context(tx, state, given.event, given))
    replies = list(outcome.replies)
    effects: list[Effect] = list(outcome.effects)

    if any(isinstance(e, ForgetOwner) for e in effects):
        tx.forget_owner()
        return replies
    if any(isinstance(e, NewJourney) for e in effects):
        journey = None
    for effect in effects:
        if isinstance(effect, OpenJourney):
            opened = tx.journey(effect.journey_id)
            if opened is not None:
                journey = opened
                show = Command(SHOW)
                start = opened_state(opened, outcome.state.lang)
                outcome = engine.handle(start, show, context(tx, start, show, given))
                replies.extend(outcome.replies)
                effects = [e for e in effects if not isinstance(e, OpenJourney)]
                effects += outcome.effects

    state = outcome.state
    journey_id = journey.id if journey is not None else None
    if outcome.logged:
        new = journey_id is None
        if journey_id is None:
            journey_id = tx.create_journey(state.lang or "en")
            replies = [replace(r, journey_id=journey_id) if r.journey_id is None else r for r in replies]
        keys = [item.key for item in outcome.logged]
        tx.change_journey(
            journey_id,
            JourneyChanges(
                answers={key: state.answers[key] for key in dict.fromkeys(keys) if key in state.answers},
                log=[LogEntry(key=i.key, raw=i.raw, value=i.value, status=i.status) for i in outcome.logged],
                complete=state.complete,
                title=engine.title_of(state.lang or "en", state.answers),
                lang=state.lang or "en",
                progress=outcome.progress,
                rows=row_changes(state.answers, keys, new_journey=new),
            ),
        )
    elif journey is not None and journey.complete != state.complete:
        tx.change_journey(journey.id, JourneyChanges(complete=state.complete))

    if journey_id is not None:
        _apply(tx, journey_id, effects, state.answers)
    tx.set_conversation(ConversationWrite(lang=state.lang, state=state.conversation_fields(), journey_id=journey_id))
    given.asked.extend(e for e in effects if isinstance(e, ReadDescription))
    return replies


def _apply(tx: TurnTx, journey_id: int, effects: list[Effect], answers: dict[str, Any]) -> None:
    for effect in effects:
        if isinstance(effect, (JourneyCompleted, SaveVersion)):
            tx.save_version(journey_id, only_first=isinstance(effect, JourneyCompleted))
            tx.schedule_review(journey_id, rhythm_of(answers), next_review(answers, tx.now))
        elif isinstance(effect, SetTodoStatus):
            tx.set_todo_status(journey_id, effect.todo_id, effect.status)
        elif isinstance(effect, AddSurveyAnswers):
            tx.add_survey_answers(journey_id, [(dict(row.scores), row.comment) for row in effect.rows], key=effect.key)
