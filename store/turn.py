"""One owner event as one transaction: the turn's reads, and its writes sent in as few round trips
as the database allows (one statement on PostgreSQL, where data-modifying CTEs carry them all)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import JSON, DateTime, Executable, Update, and_, cast, func, insert, literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from store import living_repo, outbox
from store.db import insert_on_conflict
from store.living import SurveyResponse, Todo
from store.models import AnswerLog, Conversation, Journey, Owner, Persona, ProcessedEvent
from store.projection import apply_business, replace_stages, row_updates
from store.sharing import forget_owner
from store.records import (
    ConversationWrite,
    JourneyChanges,
    JourneyRecord,
    JourneySummary,
    Loaded,
    OwnerKey,
    TodoRecord,
)


def load(session: Session, key: OwnerKey, dedup_key: str | None, *, lock_first: bool = False) -> Loaded | None:
    """Owner, conversation, current journey and whether the event was seen, in one query.

    The owner row is locked on PostgreSQL, so one owner's events are applied one after the other.
    A read that had to wait for that lock saw the rows as they were before the wait; the
    conversation's version catches it, and the repeated turn (`lock_first`) takes the lock in a
    statement of its own first, so its read is current."""
    identity = (Owner.channel == key.channel, Owner.workspace == key.workspace, Owner.user_id == key.user_id)
    if lock_first and session.get_bind().dialect.name == "postgresql":
        session.execute(select(Owner.id).where(*identity).with_for_update())
    seen = select(ProcessedEvent.key).where(ProcessedEvent.key == dedup_key).exists() if dedup_key else literal(False)
    query = (
        select(
            Owner.id,
            Conversation.id,
            Conversation.version,
            Conversation.lang,
            Conversation.state,
            Conversation.journey_id,
            Journey.id,
            Journey.answers,
            Journey.complete,
            Journey.lang,
            Journey.title,
            seen.label("seen"),
        )
        .select_from(Owner)
        .join(Conversation, Conversation.owner_id == Owner.id)
        .outerjoin(Journey, and_(Journey.id == Conversation.journey_id, Journey.owner_id == Owner.id))
        .where(*identity)
        .with_for_update(of=Owner)
    )
    row = session.execute(query).first()
    if row is None:
        return None
    owner_id, conversation_id, version, lang, state, pointer, journey_id, answers, complete, journey_lang, title, duplicate = row
    journey = (
        JourneyRecord(id=journey_id, answers=dict(answers or {}), complete=bool(complete), lang=journey_lang, title=title or "")
        if journey_id is not None
        else None
    )
    return Loaded(
        owner_id=owner_id,
        conversation_id=conversation_id,
        version=version,
        lang=lang,
        state=dict(state or {}),
        journey_id=pointer,
        journey=journey,
        duplicate=bool(duplicate),
    )


def create_owner(session: Session, key: OwnerKey) -> None:
    """The owner and an empty conversation; a racing first contact of the same owner is harmless."""
    upsert = insert_on_conflict(session)
    session.execute(
        upsert(Owner).values(channel=key.channel, workspace=key.workspace, user_id=key.user_id).on_conflict_do_nothing()
    )
    owner_id = select(Owner.id).where(Owner.channel == key.channel, Owner.workspace == key.workspace, Owner.user_id == key.user_id)
    session.execute(
        upsert(Conversation)
        .from_select(["owner_id", "state", "version"], select(owner_id.scalar_subquery(), literal({}, JSON), literal(1)))
        .on_conflict_do_nothing()
    )


class TurnTx:
    """The store as one turn sees it: a few reads, and writes that are sent together at the end."""

    def __init__(self, session: Session, key: OwnerKey, loaded: Loaded, dedup_key: str | None, now: datetime) -> None:
        self.session = session
        self.key = key
        self.loaded = loaded
        self.now = now
        # one anonymous parameter per use: a PostgreSQL batch is one statement, where same-named
        # column defaults (updated_at, created_at) of different tables would collide
        self._now = lambda: literal(now, DateTime(timezone=True))
        self._dedup_key = dedup_key
        self._batch: list[Executable] = []
        self._after: list[Callable[[], None]] = []
        self._conversation: ConversationWrite | None = None
        self._forgotten = False
        self.answered = False  # the turn stored at least one answer

    # -- reads, only when the engine needs them ----------------------------------------
    def journeys(self) -> list[JourneySummary]:
        rows = self.session.execute(
            select(Journey.id, Journey.title, Journey.answered, Journey.total)
            .where(Journey.owner_id == self.loaded.owner_id)
            .order_by(Journey.id)
        )
        return [JourneySummary(id=r.id, title=r.title, answered=r.answered, total=r.total) for r in rows]

    def journey(self, journey_id: int) -> JourneyRecord | None:
        row = self.session.execute(
            select(Journey.id, Journey.answers, Journey.complete, Journey.lang, Journey.title).where(
                Journey.id == journey_id, Journey.owner_id == self.loaded.owner_id
            )
        ).first()
        if row is None:
            return None
        return JourneyRecord(id=row.id, answers=dict(row.answers or {}), complete=bool(row.complete), lang=row.lang, title=row.title or "")

    def todos(self, journey_id: int | None) -> list[TodoRecord]:
        return living_repo.active_todos(self.session, journey_id)

    def survey_imports(self, journey_id: int) -> list[str]:
        """The keys of the survey imports stored for the journey (kept as processed events, see
        `add_survey_answers`)."""
        prefix = _import_prefix(journey_id)
        keys = self.session.scalars(
            select(ProcessedEvent.key).where(ProcessedEvent.owner_id == self.loaded.owner_id, ProcessedEvent.key.startswith(prefix))
        )
        return [key[len(prefix):] for key in keys]

    def last_outbox_turn(self) -> list[outbox.OutboxRecord]:
        return outbox.last_turn(self.session, self.key)

    # -- writes ------------------------------------------------------------------------
    def take_outbox(self, lease: timedelta, *, only_due: bool) -> list[outbox.OutboxRecord]:
        """The owner's undelivered replies, now held by this turn's process for `lease`."""
        return outbox.take_pending(self.session, self.key, self.now, lease, only_due=only_due)

    def mark_shown(self, sent: dict[int, str | None], removed: set[int]) -> None:
        outbox.mark_shown(self.session, sent, removed, self.now)

    def drop_outbox(self, ids: list[int]) -> None:
        if ids:
            outbox.drop(self.session, ids, self.now)

    def enqueue(
        self, address: dict[str, Any], replies: list[dict[str, Any]], leases: list[timedelta], *, said: str | None, said_ref: str | None
    ) -> list[int]:
        return outbox.enqueue(self.session, self.key, address, replies, said=said, said_ref=said_ref, now=self.now, leases=leases)

    def create_journey(self, lang: str) -> int:
        """A new journey (and its persona row) at once: the replies of this turn carry its id."""
        persona_id = self.session.execute(insert(Persona).values(owner_id=self.loaded.owner_id).returning(Persona.id)).scalar_one()
        return self.session.execute(
            insert(Journey)
            .values(owner_id=self.loaded.owner_id, persona_id=persona_id, lang=lang, answers={}, title="")
            .returning(Journey.id)
        ).scalar_one()

    def change_journey(self, journey_id: int, changes: JourneyChanges) -> None:
        values: dict[str, Any] = dict(changes.rows.journey)
        if changes.answers:
            values["answers"] = _merged_answers(self.session, changes.answers)
        if changes.progress is not None:
            values["answered"], values["total"] = changes.progress
        for name in ("complete", "title", "lang"):
            value = getattr(changes, name)
            if value is not None:
                values[name] = value
        if values:
            values["updated_at"] = self._now()
            self._batch.append(update(Journey).where(Journey.id == journey_id).values(**values))
        if changes.log:
            self.answered = True
            self._batch.append(
                insert(AnswerLog).values(
                    [
                        {"owner_id": self.loaded.owner_id, "journey_id": journey_id, "step": e.key, "raw": e.raw, "value": e.value, "status": e.status, "created_at": self._now()}
                        for e in changes.log
                    ]
                )
            )
        rows = changes.rows
        if rows.stages is not None:
            # the shape changed: rows are replaced before the batch, whose updates then find them
            replace_stages(self.session, journey_id, rows.stages)
        if rows.business is not None:
            name, sector = rows.business
            self._after.append(lambda: apply_business(self.session, self.loaded.owner_id, journey_id, name, sector))
        self._batch.extend(row_updates(journey_id, rows))

    def set_conversation(self, write: ConversationWrite) -> None:
        self._conversation = write

    def forget_owner(self) -> None:
        self._forgotten = True

    def set_todo_status(self, journey_id: int, todo_id: int, status: str) -> None:
        # the journey id in the filter keeps one owner's command away from another owner's to-dos
        self._batch.append(update(Todo).where(Todo.id == todo_id, Todo.journey_id == journey_id).values(status=status, updated_at=self._now()))

    def add_survey_answers(self, journey_id: int, rows: list[tuple[dict[str, Any], str]], key: str | None = None) -> None:
        """All rows in one statement; the import's `key` is recorded like an event id, in the same
        transaction, so the same import is recognised (and a racing twin fails on the key)."""
        if key is not None:
            self._batch.append(
                insert(ProcessedEvent).values(key=_import_prefix(journey_id) + key, owner_id=self.loaded.owner_id, created_at=self._now())
            )
        if rows:
            self._batch.append(_insert_survey_rows(self.session, journey_id, rows, self._now()))

    def save_version(self, journey_id: int, *, only_first: bool = False) -> None:
        def work() -> None:
            if not (only_first and living_repo.has_version(self.session, journey_id)):
                living_repo.save_version(self.session, journey_id)

        self._after.append(work)

    def schedule_review(self, journey_id: int, rhythm: str, due: datetime | None) -> None:
        def work() -> None:
            owner = self.session.get(Owner, self.loaded.owner_id)
            if owner is not None:
                living_repo.schedule_review(self.session, journey_id, owner, rhythm, due)

        self._after.append(work)

    # -- the end of the turn -------------------------------------------------------------
    def finish(self) -> None:
        if self._forgotten:
            forget_owner(self.session, self.key)
            return
        if self._dedup_key is not None:
            self._batch.insert(
                0, insert(ProcessedEvent).values(key=self._dedup_key, owner_id=self.loaded.owner_id, created_at=self._now())
            )
        write = self._conversation
        main = update(Conversation).where(Conversation.id == self.loaded.conversation_id, Conversation.version == self.loaded.version)
        if write is not None:
            main = main.values(lang=write.lang, state=write.state, journey_id=write.journey_id, version=self.loaded.version + 1, updated_at=self._now())
        else:
            main = main.values(version=self.loaded.version + 1, updated_at=self._now())
        if not self._send(main.returning(Conversation.id)):
            raise StaleDataError("the conversation changed while this event was handled")
        for work in self._after:
            work()

    def _send(self, main: Update) -> bool:
        """The batch and the conversation update; True when the conversation was still at our version."""
        if self.session.get_bind().dialect.name == "postgresql" and self._batch:
            for index, statement in enumerate(self._batch):
                main = main.add_cte(statement.cte(f"w{index}"))  # type: ignore[attr-defined]
            return self.session.execute(main).first() is not None
        for statement in self._batch:
            self.session.execute(statement)
        return self.session.execute(main).first() is not None



def _import_prefix(journey_id: int) -> str:
    return f"survey:{journey_id}:"


def _insert_survey_rows(session: Session, journey_id: int, rows: list[tuple[dict[str, Any], str]], now: Any) -> Executable:
    """All rows in one small statement: they travel as one JSON parameter that the database unpacks,
    so 2,000 customers cost no more to compile than one (a VALUES list of 2,000 rows took SQLAlchemy
    about half a second, with the write lock held)."""
    payload = json.dumps([{"scores": dict(scores), "comment": comment or None} for scores, comment in rows])
    scores: Any
    comment: Any
    if session.get_bind().dialect.name == "postgresql":
        items = func.json_array_elements(cast(literal(payload), JSON)).table_valued("value").alias("item")
        scores, comment = items.c.value.op("->")("scores"), items.c.value.op("->>")("comment")
    else:
        items = func.json_each(literal(payload)).table_valued("value").alias("item")
        scores, comment = func.json_extract(items.c.value, "$.scores"), func.json_extract(items.c.value, "$.comment")
    rows_query = select(literal(journey_id), scores, comment, now).select_from(items)
    return insert(SurveyResponse).from_select(["journey_id", "scores", "comment", "created_at"], rows_query)


def _merged_answers(session: Session, changed: dict[str, dict[str, Any]]) -> Any:
    """The stored answers with only the changed entries replaced, computed by the database."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import JSONB

        return cast(cast(Journey.answers, JSONB).op("||")(cast(literal(json.dumps(changed)), JSONB)), JSON)
    arguments: list[Any] = []
    for key, entry in changed.items():
        arguments += [f'$."{key}"', func.json(json.dumps(entry))]
    return func.json_set(Journey.answers, *arguments)
