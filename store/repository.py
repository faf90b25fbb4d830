"""The store behind the application layer's port: one transaction per owner event, plus reads.

Persistence only: it knows tables and records (store/records.py), never the interview.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Callable, TypeVar, overload

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from store import living_repo, outbox, survey_links
from store.db import FairLock, database_url, make_engine, upgrade_if_behind
from store.living import Reminder
from store.models import Conversation, Journey, Owner, ProcessedEvent, Stage, Summary, Touchpoint
from store.records import (
    DueReminder,
    HomeJourney,
    JourneyData,
    JourneyNotFound,
    JourneyRecord,
    JourneySummary,
    OwnerKey,
    StoreUnavailable,
    TodoRecord,
)
from store.sharing import forget_owner
from store.turn import TurnTx, create_owner, load
from store.rows import affected

log = logging.getLogger(__name__)
T = TypeVar("T")
S = TypeVar("S")
MAX_ATTEMPTS = 8
PROCESSED_EVENTS_KEPT = timedelta(days=7)


class Duplicate:
    """What a turn returns when its event was applied before (a platform re-delivery)."""


DUPLICATE = Duplicate()


class Store:
    def __init__(self, engine: Engine, reader: Engine | None = None) -> None:
        self.engine = engine
        self.reader = reader or engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(self.reader, expire_on_commit=False)
        # SQLite has one writer at a time: writers of this process queue in arrival order instead of
        # racing in SQLite's busy-wait, which lets an unlucky writer wait for seconds
        self._writers = FairLock() if engine.dialect.name == "sqlite" else None

    @classmethod
    def open(cls, url: str | None = None, *, migrate: bool = True, pool_size: int = 5) -> "Store":
        url = url or database_url()
        engine = make_engine(url, pool_size=pool_size)
        reader = make_engine(url, pool_size=pool_size, read_only=True) if engine.dialect.name == "sqlite" else engine
        try:  # with `migrate` False the version is still checked: SchemaBehind when behind this release
            upgrade_if_behind(engine, migrate=migrate)
        except BaseException as exc:
            engine.dispose()
            reader.dispose()
            if isinstance(exc, DBAPIError):  # OperationalError is one
                raise StoreUnavailable(str(exc.orig) if exc.orig else str(exc)) from None
            raise
        return cls(engine, reader)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()
        if self.reader is not self.engine:
            self.reader.dispose()

    # -- transactions ------------------------------------------------------------------
    def write(self, work: Callable[[Session], T]) -> T:
        """Run `work` in one write transaction, again on a version conflict or a racing insert."""
        return self._run(self.sessions, work, writer=True)

    def read(self, work: Callable[[Session], T]) -> T:
        return self._run(self.read_sessions, work, writer=False)

    def _run(self, sessions: sessionmaker[Session], work: Callable[[Session], T], *, writer: bool) -> T:
        reconnects = 0
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                if writer and self._writers is not None:
                    with self._writers, sessions.begin() as session:
                        return work(session)
                with sessions.begin() as session:
                    return work(session)
            except (StaleDataError, IntegrityError) as exc:
                if attempt == MAX_ATTEMPTS:
                    raise
                log.info("transaction conflict (attempt %d): %s", attempt, type(exc).__name__)
            except OperationalError as exc:
                if _is_serialisation_failure(exc) and attempt < MAX_ATTEMPTS:
                    continue
                if exc.connection_invalidated and reconnects < 2 and _safe_to_repeat(exc):
                    reconnects += 1  # a pooled connection the server dropped: once more on a fresh one
                    continue
                raise StoreUnavailable(type(exc.orig).__name__ if exc.orig else "OperationalError") from None
            except DBAPIError as exc:
                if exc.connection_invalidated:
                    if reconnects < 2 and _safe_to_repeat(exc):
                        reconnects += 1
                        continue
                    raise StoreUnavailable("connection lost") from None
                raise
        raise AssertionError("unreachable")

    # -- the turn ------------------------------------------------------------------------
    @overload
    def turn(self, key: OwnerKey, dedup_key: str | None, step: Callable[[TurnTx], T], *, now: datetime | None = None, then: None = None) -> T | Duplicate: ...

    @overload
    def turn(
        self, key: OwnerKey, dedup_key: str | None, step: Callable[[TurnTx], S], *, now: datetime | None = None, then: Callable[[TurnTx, S], T]
    ) -> T | Duplicate: ...

    def turn(
        self,
        key: OwnerKey,
        dedup_key: str | None,
        step: Callable[[TurnTx], Any],
        *,
        now: datetime | None = None,
        then: Callable[[TurnTx, Any], Any] | None = None,
    ) -> Any:
        """Load the owner's conversation, let `step` decide, and write what it changed, atomically;
        `then` runs after those writes, in the same transaction (it queues the turn's replies, which
        must survive even the owner's `/forget`).

        `step` may run more than once (after a conflict), so it must not have side effects outside `tx`.
        """

        attempts = 0

        def work(session: Session) -> Any:
            nonlocal attempts
            attempts += 1
            loaded = load(session, key, dedup_key, lock_first=attempts > 1)
            if loaded is None:
                create_owner(session, key)
                loaded = load(session, key, dedup_key, lock_first=True)
                assert loaded is not None
            if loaded.duplicate:
                return DUPLICATE
            tx = TurnTx(session, key, loaded, dedup_key, now or living_repo.utcnow())
            result = step(tx)
            tx.finish()
            return then(tx, result) if then is not None else result

        return self.write(work)

    # -- reads for summaries and exports ----------------------------------------------------
    def _owner_id(self, session: Session, key: OwnerKey) -> int | None:
        return session.scalar(
            select(Owner.id).where(Owner.channel == key.channel, Owner.workspace == key.workspace, Owner.user_id == key.user_id)
        )

    def language(self, key: OwnerKey) -> str | None:
        def work(session: Session) -> str | None:
            return session.scalar(
                select(Conversation.lang)
                .join(Owner, Owner.id == Conversation.owner_id)
                .where(Owner.channel == key.channel, Owner.workspace == key.workspace, Owner.user_id == key.user_id)
            )

        return self.read(work)

    def current_journey_id(self, key: OwnerKey) -> int | None:
        def work(session: Session) -> int | None:
            return session.scalar(
                select(Conversation.journey_id)
                .join(Owner, Owner.id == Conversation.owner_id)
                .where(Owner.channel == key.channel, Owner.workspace == key.workspace, Owner.user_id == key.user_id)
            )

        return self.read(work)

    def journey_data(self, key: OwnerKey, journey_id: int) -> JourneyData:
        """One journey of this owner with what a summary shows besides the answers; JourneyNotFound otherwise."""

        def work(session: Session) -> JourneyData:
            row = session.execute(
                select(Journey, Conversation.lang)
                .join(Owner, Owner.id == Journey.owner_id)
                .outerjoin(Conversation, Conversation.owner_id == Owner.id)
                .where(
                    Journey.id == journey_id,
                    Owner.channel == key.channel,
                    Owner.workspace == key.workspace,
                    Owner.user_id == key.user_id,
                )
            ).first()
            if row is None:
                raise JourneyNotFound(journey_id)
            journey, conversation_lang = row
            return _journey_data(session, journey, conversation_lang)

        return self.read(work)

    def shared_journey_data(self, journey_id: int) -> JourneyData:
        """A journey read for a contributor the application layer already authorised."""

        def work(session: Session) -> JourneyData:
            journey = session.get(Journey, journey_id)
            if journey is None:
                raise JourneyNotFound(journey_id)
            return _journey_data(session, journey, None)

        return self.read(work)

    def list_journeys(self, key: OwnerKey) -> list[JourneySummary]:
        def work(session: Session) -> list[JourneySummary]:
            rows = session.execute(
                select(Journey.id, Journey.title, Journey.answered, Journey.total)
                .join(Owner, Owner.id == Journey.owner_id)
                .where(Owner.channel == key.channel, Owner.workspace == key.workspace, Owner.user_id == key.user_id)
                .order_by(Journey.id)
            )
            return [JourneySummary(id=r.id, title=r.title, answered=r.answered, total=r.total) for r in rows]

        return self.read(work)

    def home(self, key: OwnerKey) -> list[HomeJourney]:
        """The owner's journeys for their home screen, newest first: progress, the next review date,
        the to-dos still open or planned, and how many touchpoints are rated. Every row is found
        through this owner's own row, so nobody sees another owner's journeys."""

        def work(session: Session) -> list[HomeJourney]:
            owner_id = self._owner_id(session, key)
            if owner_id is None:
                return []
            rows = session.execute(
                select(Journey.id, Journey.title, Journey.answered, Journey.total, Journey.complete)
                .where(Journey.owner_id == owner_id)
                .order_by(Journey.id.desc())
            ).all()
            ids = [r.id for r in rows]
            if not ids:
                return []
            due = dict(
                session.execute(select(Reminder.journey_id, Reminder.due_at).where(Reminder.owner_id == owner_id, Reminder.journey_id.in_(ids))).all()
            )
            rated = dict(
                session.execute(
                    select(Stage.journey_id, func.count(Touchpoint.id))
                    .join(Touchpoint, Touchpoint.stage_id == Stage.id)
                    .where(Stage.journey_id.in_(ids), Touchpoint.feeling.is_not(None))
                    .group_by(Stage.journey_id)
                ).all()
            )
            return [
                HomeJourney(
                    id=r.id,
                    title=r.title,
                    answered=r.answered,
                    total=r.total,
                    complete=r.complete,
                    review_due=due[r.id].date() if due.get(r.id) is not None else None,
                    todos=[t for t in living_repo.active_todos(session, r.id) if t.status in ("open", "planned")],
                    rated=int(rated.get(r.id) or 0),
                )
                for r in rows
            ]

        return self.read(work)

    def forget(self, key: OwnerKey) -> None:
        self.write(lambda session: forget_owner(session, key))

    def prune_processed_events(self, older_than: timedelta = PROCESSED_EVENTS_KEPT) -> int:
        """Forget platform event ids long after any re-delivery could come (Telegram keeps updates 24 h).
        The keys of survey imports (`survey:…`, a few per journey) stay, so an import is taken once."""
        cutoff = living_repo.utcnow() - older_than

        def work(session: Session) -> int:
            old = delete(ProcessedEvent).where(ProcessedEvent.created_at < cutoff, ~ProcessedEvent.key.startswith("survey:"))
            outbox.prune(session, cutoff)
            return affected(session.execute(old))

        return self.write(work)

    # -- survey links ------------------------------------------------------------------------
    def survey_link(self, key: OwnerKey, journey_id: int, *, renew: bool = False) -> survey_links.LinkRecord:
        record = self.write(lambda s: survey_links.open_link(s, key, journey_id, living_repo.utcnow(), renew=renew))
        if record is None:
            raise JourneyNotFound(journey_id)
        return record

    def close_survey_link(self, key: OwnerKey, journey_id: int) -> bool:
        return self.write(lambda s: survey_links.close_link(s, key, journey_id, living_repo.utcnow()))

    def survey_page(self, token: str) -> survey_links.PageRecord | None:
        return self.read(lambda s: survey_links.page(s, token))

    def submit_survey(self, token: str, scores: dict[str, int], comment: str | None, submission: str) -> str:
        return self.write(lambda s: survey_links.submit(s, token, scores, comment, submission, living_repo.utcnow()))

    def survey_news(self, channel: str, workspace: str | None = None) -> list[survey_links.NewsRecord]:
        """Customers' answers the owners of `channel` were not told about yet, each owner claimed once."""
        return self.write(lambda s: survey_links.news(s, channel, workspace))

    # -- the outbox ----------------------------------------------------------------------------
    def take_outbox(self, key: OwnerKey, lease: timedelta, *, only_due: bool = False) -> list[outbox.OutboxRecord]:
        """One owner's undelivered replies, oldest first, now held by the caller."""
        return self.write(lambda s: outbox.take_pending(s, key, living_repo.utcnow(), lease, only_due=only_due))

    def claim_outbox(self, channel: str, lease: timedelta, limit: int = 50, workspace: str | None = None) -> list[outbox.OutboxRecord]:
        return self.write(lambda s: outbox.claim_due(s, channel, living_repo.utcnow(), lease, limit, workspace))

    def outbox_sent(self, ids: list[int], ref: str | None = None) -> None:
        self.write(lambda s: outbox.mark_sent(s, ids, ref, living_repo.utcnow()))

    def outbox_retry(self, ids: list[int], delay: timedelta) -> None:
        self.write(lambda s: outbox.retry_at(s, ids, living_repo.utcnow() + delay))

    def outbox_drop(self, ids: list[int]) -> None:
        self.write(lambda s: outbox.drop(s, ids, living_repo.utcnow()))

    def outbox_shown(self, sent: dict[int, str | None], removed: set[int]) -> None:
        self.write(lambda s: outbox.mark_shown(s, sent, removed, living_repo.utcnow()))

    def outbox_remove(self, ids: list[int]) -> None:
        self.write(lambda s: outbox.remove(s, ids))

    def outbox_backlog(self, channel: str | None = None) -> int:
        return self.read(lambda s: outbox.backlog(s, channel))

    # -- living journeys -------------------------------------------------------------------
    def sync_todos(self, journey_id: int, items: list[tuple[str, str]]) -> list[TodoRecord]:
        def work(session: Session) -> list[TodoRecord]:
            living_repo.sync_todos(session, journey_id, items)
            session.flush()
            return living_repo.active_todos(session, journey_id)

        return self.write(work)

    def claim_due_reminders(
        self,
        channel: str,
        now: datetime,
        next_due: dict[str, timedelta],
        *,
        owner: OwnerKey | None = None,
        workspace: str | None = None,
    ) -> list[DueReminder]:
        def work(session: Session) -> list[DueReminder]:
            owner_id = None
            if owner is not None:
                owner_id = self._owner_id(session, owner)
                if owner_id is None:
                    return []
            return living_repo.claim_due_reminders(session, channel, now, next_due, owner_id=owner_id, workspace=workspace)

        return self.write(work)

    def release_reminder(self, reminder: DueReminder) -> None:
        self.write(lambda session: living_repo.release_reminder(session, reminder))

    # -- written summaries -------------------------------------------------------------------
    def cached_summary(self, journey_id: int, cache_key: str) -> dict[str, Any] | None:
        def work(session: Session) -> dict[str, Any] | None:
            content = session.scalar(
                select(Summary.content)
                .where(Summary.journey_id == journey_id, Summary.cache_key == cache_key, Summary.fallback.is_(False))
                .order_by(Summary.id.desc())
                .limit(1)
            )
            return dict(content) if content is not None else None

        return self.read(work)

    def save_summary(self, journey_id: int, **values: Any) -> None:
        self.write(lambda session: session.add(Summary(journey_id=journey_id, **values)))

    def count_rows(self, model: type, **where: Any) -> int:
        def work(session: Session) -> int:
            query = select(func.count()).select_from(model)
            for name, value in where.items():
                query = query.where(getattr(model, name) == value)
            return int(session.scalar(query) or 0)

        return self.read(work)


def _journey_data(session: Session, journey: Journey, conversation_lang: str | None) -> JourneyData:
    return JourneyData(
        journey=JourneyRecord(id=journey.id, answers=dict(journey.answers or {}), complete=journey.complete, lang=journey.lang, title=journey.title),
        conversation_lang=conversation_lang,
        versions=living_repo.newest_versions(session, journey.id),
        todos=living_repo.active_todos(session, journey.id),
        survey=living_repo.survey_rows(session, journey.id),
    )


def _is_serialisation_failure(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40001", "40P01")


def _safe_to_repeat(exc: DBAPIError) -> bool:
    """A statement that failed because the pooled connection was dead never reached the database,
    unless it was the COMMIT; repeating a transaction whose COMMIT may have landed is left to the
    caller's dedup key, so only failures outside COMMIT are repeated here."""
    return exc.statement is not None and "COMMIT" not in str(exc.statement).upper()


# the name the rest of the code base and its tests know
Repository = Store
__all__ = ("Store", "Repository", "DUPLICATE", "Duplicate", "OwnerKey", "StoreUnavailable", "JourneyNotFound")
