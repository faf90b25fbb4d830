"""The repository: one transaction per owner event, around the pure engine."""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Callable, TypeVar

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from bot import engine as interview
from bot.events import Command, Event
from bot.journey import JourneyView, build_view
from bot.replies import Reply
from bot.report import TodoLine
from store.db import database_url, make_engine, upgrade
from store.models import AnswerLog, Conversation, Journey, Owner, ProcessedEvent, Summary
from store import living_repo
from store.projection import project

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_ATTEMPTS = 8
PROCESSED_EVENTS_KEPT = timedelta(days=7)


@dataclass(frozen=True)
class OwnerKey:
    """Who is talking: Telegram uses workspace '', Slack the team id, the terminal 'local'."""

    channel: str
    workspace: str
    user_id: str


class StoreUnavailable(RuntimeError):
    """The database cannot be reached or written; nothing of the last event was saved."""


class JourneyNotFound(LookupError):
    """No such journey for this owner (or it belongs to someone else)."""


class Repository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str | None = None, *, migrate: bool = True, pool_size: int = 5) -> "Repository":
        engine = make_engine(url or database_url(), pool_size=pool_size)
        if migrate:
            try:
                upgrade(engine)
            except (OperationalError, DBAPIError) as exc:
                raise StoreUnavailable(str(exc.orig) if exc.orig else str(exc)) from None
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    # -- transactions ------------------------------------------------------
    def transaction(self, work: Callable[[Session], T]) -> T:
        """Run `work` in one transaction, again on a version conflict or a racing insert."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with self.sessions.begin() as session:
                    return work(session)
            except (StaleDataError, IntegrityError) as exc:
                if attempt == MAX_ATTEMPTS:
                    raise
                log.info("transaction conflict (attempt %d): %s", attempt, type(exc).__name__)
            except OperationalError as exc:
                if _is_serialisation_failure(exc) and attempt < MAX_ATTEMPTS:
                    continue
                raise StoreUnavailable(type(exc.orig).__name__ if exc.orig else "OperationalError") from None
            except DBAPIError as exc:
                if exc.connection_invalidated:
                    raise StoreUnavailable("connection lost") from None
                raise
        raise AssertionError("unreachable")

    def handle(self, owner: OwnerKey, event: Event, *, dedup_key: str | None = None, lang_hint: str | None = None) -> list[Reply]:
        return self.transaction(lambda session: self._handle(session, owner, event, dedup_key, lang_hint))

    # -- the step ----------------------------------------------------------
    def _handle(self, session: Session, key: OwnerKey, event: Event, dedup_key: str | None, lang_hint: str | None = None) -> list[Reply]:
        owner = self._owner(session, key, create=True)
        assert owner is not None
        if dedup_key is not None:
            if session.get(ProcessedEvent, dedup_key) is not None:
                return []
            session.add(ProcessedEvent(key=dedup_key, owner_id=owner.id))
            session.flush()
        conversation = self._conversation(session, owner)
        journey = self._journey(session, owner.id, conversation.journey_id)
        state = _state_of(conversation, journey)
        ctx = interview.Context(
            journeys=lambda: self._journey_refs(session, owner.id),
            lang_hint=lang_hint,
            todos=lambda: living_repo.todo_refs(session, journey.id if journey is not None else None),
        )
        outcome = interview.handle(state, event, ctx)
        replies = list(outcome.replies)

        if outcome.effect == "forget":
            session.execute(delete(Owner).where(Owner.id == owner.id))
            return replies
        if outcome.effect == "new":
            journey = None
        elif outcome.effect and outcome.effect.startswith("open:"):
            journey = self._journey(session, owner.id, int(outcome.effect.split(":", 1)[1]))
            if journey is not None:
                opened = _state_of(conversation, journey, lang=outcome.state.lang, cursor=None)
                outcome = interview.handle(opened, Command(interview.SHOW), ctx)
                replies.extend(outcome.replies)

        state = outcome.state
        if outcome.logged:
            if journey is None:
                journey = Journey(owner_id=owner.id, lang=state.lang or "en", answers={})
                session.add(journey)
                session.flush()
                replies = [replace(r, journey_id=journey.id) if r.journey_id is None else r for r in replies]
            journey.answers = dict(state.answers)
            for item in outcome.logged:
                session.add(
                    AnswerLog(owner_id=owner.id, journey_id=journey.id, step=item.key, raw=item.raw, value=item.value, status=item.status)
                )
            view = build_view(state.answers, state.lang or "en", journey.id)
            answered = sum(1 for k in view.fields if k in state.answers)
            journey.answered, journey.total, journey.complete = answered, len(view.fields), state.complete
            project(session, journey, view, (item.key for item in outcome.logged))
        elif journey is not None and journey.complete != state.complete:
            journey.complete = state.complete
        if journey is not None and outcome.effects:
            self._apply_effects(session, owner, journey, outcome.effects)

        conversation.journey_id = journey.id if journey is not None else None
        conversation.lang = state.lang
        conversation.state = state.conversation_fields()
        return replies

    @staticmethod
    def _apply_effects(session: Session, owner: Owner, journey: Journey, effects: list[tuple[Any, ...]]) -> None:
        now = living_repo.utcnow()
        session.flush()
        for effect in effects:
            kind = effect[0]
            if kind == "completed":
                if not living_repo.has_version(session, journey.id):
                    living_repo.save_version(session, journey)
                living_repo.schedule_review(session, journey, owner, now)
            elif kind == "version":
                living_repo.save_version(session, journey)
                living_repo.schedule_review(session, journey, owner, now)
            elif kind == "todo":
                living_repo.set_todo_status(session, journey.id, int(effect[1]), str(effect[2]))
            elif kind == "survey":
                living_repo.add_survey_rows(session, journey.id, list(effect[1]))

    def _owner(self, session: Session, key: OwnerKey, *, create: bool) -> Owner | None:
        owner = session.scalar(
            select(Owner).where(Owner.channel == key.channel, Owner.workspace == key.workspace, Owner.user_id == key.user_id)
        )
        if owner is None and create:
            owner = Owner(channel=key.channel, workspace=key.workspace, user_id=key.user_id)
            session.add(owner)
            session.flush()
        return owner

    def _conversation(self, session: Session, owner: Owner) -> Conversation:
        query = select(Conversation).where(Conversation.owner_id == owner.id)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        conversation = session.scalar(query)
        if conversation is None:
            conversation = Conversation(owner_id=owner.id, state={})
            session.add(conversation)
            session.flush()
        return conversation

    @staticmethod
    def _journey(session: Session, owner_id: int, journey_id: int | None) -> Journey | None:
        if journey_id is None:
            return None
        journey = session.get(Journey, journey_id)
        return journey if journey is not None and journey.owner_id == owner_id else None

    @staticmethod
    def _journey_refs(session: Session, owner_id: int) -> list[interview.JourneyRef]:
        rows = session.execute(
            select(Journey.id, Journey.title, Journey.answered, Journey.total).where(Journey.owner_id == owner_id).order_by(Journey.id)
        )
        return [interview.JourneyRef(id=r.id, title=r.title, answered=r.answered, total=r.total) for r in rows]

    # -- reads for summaries and exports --------------------------------------
    def language(self, key: OwnerKey) -> str | None:
        def work(session: Session) -> str | None:
            owner = self._owner(session, key, create=False)
            if owner is None:
                return None
            return session.scalar(select(Conversation.lang).where(Conversation.owner_id == owner.id))

        return self.transaction(work)

    def current_journey_id(self, key: OwnerKey) -> int | None:
        def work(session: Session) -> int | None:
            owner = self._owner(session, key, create=False)
            if owner is None:
                return None
            return session.scalar(select(Conversation.journey_id).where(Conversation.owner_id == owner.id))

        return self.transaction(work)

    def journey_view(self, key: OwnerKey, journey_id: int, lang: str | None = None) -> JourneyView:
        def work(session: Session) -> JourneyView:
            owner = self._owner(session, key, create=False)
            journey = self._journey(session, owner.id, journey_id) if owner else None
            if journey is None:
                raise JourneyNotFound(journey_id)
            conversation_lang = session.scalar(select(Conversation.lang).where(Conversation.owner_id == owner.id))
            version, previous = living_repo.previous_version(session, journey)
            return build_view(
                dict(journey.answers),
                lang or conversation_lang or journey.lang,
                journey.id,
                version=version,
                previous=previous,
                todos=living_repo.todo_items(session, journey.id),
                survey=living_repo.survey_rows(session, journey.id),
            )

        return self.transaction(work)

    def list_journeys(self, key: OwnerKey) -> list[interview.JourneyRef]:
        def work(session: Session) -> list[interview.JourneyRef]:
            owner = self._owner(session, key, create=False)
            return self._journey_refs(session, owner.id) if owner else []

        return self.transaction(work)

    def forget(self, key: OwnerKey) -> None:
        def work(session: Session) -> None:
            session.execute(
                delete(Owner).where(Owner.channel == key.channel, Owner.workspace == key.workspace, Owner.user_id == key.user_id)
            )

        self.transaction(work)

    def prune_processed_events(self, older_than: timedelta = PROCESSED_EVENTS_KEPT) -> int:
        """Forget platform event ids long after any re-delivery could come (Telegram keeps updates 24 h)."""
        cutoff = living_repo.utcnow() - older_than

        def work(session: Session) -> int:
            return int(session.execute(delete(ProcessedEvent).where(ProcessedEvent.created_at < cutoff)).rowcount or 0)

        return self.transaction(work)

    def sync_todos(self, journey_id: int, items: list[tuple[str, str]]) -> None:
        self.transaction(lambda session: living_repo.sync_todos(session, journey_id, items))

    def todo_lines(self, journey_id: int) -> list[TodoLine]:
        def work(session: Session) -> list[TodoLine]:
            return [TodoLine(id=t.id, kind=t.kind, title=t.title, status=t.status) for t in living_repo.todo_items(session, journey_id)]

        return self.transaction(work)

    def due_reminders(
        self, channel: str, *, owner: OwnerKey | None = None, workspace: str | None = None, now: Any = None
    ) -> list[living_repo.DueReminder]:
        def work(session: Session) -> list[living_repo.DueReminder]:
            owner_id = None
            if owner is not None:
                row = self._owner(session, owner, create=False)
                if row is None:
                    return []
                owner_id = row.id
            return living_repo.claim_due_reminders(session, channel, now or living_repo.utcnow(), owner_id=owner_id, workspace=workspace)

        return self.transaction(work)

    def cached_summary(self, journey_id: int, cache_key: str) -> dict[str, Any] | None:
        def work(session: Session) -> dict[str, Any] | None:
            row = session.scalar(
                select(Summary)
                .where(Summary.journey_id == journey_id, Summary.cache_key == cache_key, Summary.fallback.is_(False))
                .order_by(Summary.id.desc())
                .limit(1)
            )
            return dict(row.content) if row is not None else None

        return self.transaction(work)

    def save_summary(self, journey_id: int, **values: Any) -> None:
        self.transaction(lambda session: session.add(Summary(journey_id=journey_id, **values)))

    def count_rows(self, model: type, **where: Any) -> int:
        def work(session: Session) -> int:
            query = select(func.count()).select_from(model)
            for name, value in where.items():
                query = query.where(getattr(model, name) == value)
            return int(session.scalar(query) or 0)

        return self.transaction(work)


def _is_serialisation_failure(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40001", "40P01")


def _state_of(conversation: Conversation, journey: Journey | None, **override: Any) -> interview.State:
    saved = dict(conversation.state or {})
    state = interview.State(
        lang=conversation.lang,
        journey_id=journey.id if journey is not None else None,
        cursor=saved.get("cursor"),
        pending=saved.get("pending"),
        paused=bool(saved.get("paused", False)),
        complete=bool(saved.get("complete", False)) if journey is not None else False,
        selection=list(saved.get("selection") or []),
        followup=saved.get("followup"),
        review=list(saved.get("review") or []),
        version_due=bool(saved.get("version_due", False)),
        answers=dict(journey.answers) if journey is not None else {},
    )
    if journey is None and conversation.journey_id is not None:
        state.cursor = None
    for name, value in override.items():
        setattr(state, name, value)
    if "cursor" in override and journey is not None:
        state.complete = journey.complete
        state.selection = []
        state.pending = None
        state.paused = False
    return state
