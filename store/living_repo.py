"""Store side of living journeys: versions, reminders, to-dos and survey answers, inside the caller's session."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.vocabulary import TodoRef
from bot.journey import PreviousVersion, TodoItem
from store.living import JourneyVersion, Reminder, SurveyResponse, Todo
from store.models import Journey, Owner

RHYTHM_DAYS = {"monthly": 30, "quarterly": 91, "half_year": 182}
DEFAULT_RHYTHM = "monthly"


@dataclass(frozen=True)
class DueReminder:
    channel: str
    workspace: str
    user_id: str
    journey_id: int
    lang: str
    title: str


def todo_key(kind: str, title: str) -> str:
    return hashlib.sha256(f"{kind}\n{title}".encode("utf-8")).hexdigest()[:32]


def todo_refs(session: Session, journey_id: int | None) -> list[TodoRef]:
    if journey_id is None:
        return []
    rows = session.scalars(select(Todo).where(Todo.journey_id == journey_id, Todo.active.is_(True)).order_by(Todo.id))
    return [TodoRef(id=t.id, kind=t.kind, title=t.title, status=t.status) for t in rows]


def todo_items(session: Session, journey_id: int) -> tuple[TodoItem, ...]:
    rows = session.scalars(select(Todo).where(Todo.journey_id == journey_id, Todo.active.is_(True)).order_by(Todo.id))
    return tuple(TodoItem(id=t.id, key=t.key, kind=t.kind, title=t.title, status=t.status) for t in rows)


def set_todo_status(session: Session, journey_id: int, todo_id: int, status: str) -> None:
    # the journey id in the filter keeps one owner's command away from another owner's to-dos
    session.execute(update(Todo).where(Todo.id == todo_id, Todo.journey_id == journey_id).values(status=status))


def sync_todos(session: Session, journey_id: int, items: Iterable[tuple[str, str]]) -> None:
    """Make the active to-dos the given (kind, title) pairs, keeping the status of ones seen before."""
    wanted = {todo_key(kind, title): (kind, title) for kind, title in items}
    existing = {t.key: t for t in session.scalars(select(Todo).where(Todo.journey_id == journey_id))}
    for key, todo in existing.items():
        todo.active = key in wanted or todo.status in ("planned", "done")
    for key, (kind, title) in wanted.items():
        if key not in existing:
            session.add(Todo(journey_id=journey_id, key=key, kind=kind, title=title, status="open", active=True))


def save_version(session: Session, journey: Journey) -> int:
    latest = session.scalar(select(func.max(JourneyVersion.number)).where(JourneyVersion.journey_id == journey.id)) or 0
    todos = {t.key: t.status for t in session.scalars(select(Todo).where(Todo.journey_id == journey.id))}
    session.add(JourneyVersion(journey_id=journey.id, number=latest + 1, answers=dict(journey.answers), todos=todos))
    return latest + 1


def has_version(session: Session, journey_id: int) -> bool:
    return session.scalar(select(JourneyVersion.id).where(JourneyVersion.journey_id == journey_id).limit(1)) is not None


def previous_version(session: Session, journey: Journey) -> tuple[int, PreviousVersion | None]:
    """The newest version number, and the version a summary compares with."""
    versions = session.scalars(
        select(JourneyVersion).where(JourneyVersion.journey_id == journey.id).order_by(JourneyVersion.number.desc()).limit(2)
    ).all()
    if not versions:
        return 0, None
    newest = versions[0]
    base = newest if newest.answers != journey.answers else (versions[1] if len(versions) > 1 else None)
    if base is None:
        return newest.number, None
    return newest.number, PreviousVersion(
        number=base.number, created=base.created_at.date().isoformat(), answers=dict(base.answers), todos=dict(base.todos or {})
    )


def add_survey_rows(session: Session, journey_id: int, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        session.add(SurveyResponse(journey_id=journey_id, scores=dict(row["scores"]), comment=row.get("comment") or None))


def survey_rows(session: Session, journey_id: int) -> tuple[dict[str, Any], ...]:
    rows = session.scalars(select(SurveyResponse).where(SurveyResponse.journey_id == journey_id).order_by(SurveyResponse.id))
    return tuple({"scores": dict(r.scores), "comment": r.comment or ""} for r in rows)


def schedule_review(session: Session, journey: Journey, owner: Owner, now: datetime) -> None:
    """(Re)start the review clock from the rhythm the owner chose; 'never' removes the reminder."""
    entry = (journey.answers or {}).get("journey.review") or {}
    rhythm = str(entry.get("v")) if entry.get("s") == "ok" else DEFAULT_RHYTHM
    if rhythm not in RHYTHM_DAYS:
        session.execute(delete(Reminder).where(Reminder.journey_id == journey.id))
        return
    due = now + timedelta(days=RHYTHM_DAYS[rhythm])
    reminder = session.scalar(select(Reminder).where(Reminder.journey_id == journey.id))
    if reminder is None:
        session.add(Reminder(journey_id=journey.id, owner_id=owner.id, channel=owner.channel, rhythm=rhythm, due_at=due))
    else:
        reminder.rhythm, reminder.due_at = rhythm, due


def claim_due_reminders(
    session: Session, channel: str, now: datetime, *, owner_id: int | None = None, workspace: str | None = None, limit: int = 50
) -> list[DueReminder]:
    """Reminders that are due, each claimed by exactly one caller however many processes ask at once.

    The claim moves `due_at` one rhythm further with a compare-and-set on the old value, so a
    second process that read the same row updates nothing and skips it.
    """
    query = select(Reminder).where(Reminder.channel == channel, Reminder.due_at <= now).order_by(Reminder.due_at).limit(limit)
    if owner_id is not None:
        query = query.where(Reminder.owner_id == owner_id)
    if workspace is not None:  # an installation only reaches the people of its own workspace
        query = query.join(Owner, Owner.id == Reminder.owner_id).where(Owner.workspace == workspace)
    claimed: list[DueReminder] = []
    for reminder in session.scalars(query).all():
        next_due = now + timedelta(days=RHYTHM_DAYS.get(reminder.rhythm, RHYTHM_DAYS[DEFAULT_RHYTHM]))
        result = session.execute(
            update(Reminder)
            .where(Reminder.id == reminder.id, Reminder.due_at == reminder.due_at)
            .values(due_at=next_due, last_sent_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            continue
        owner = session.get(Owner, reminder.owner_id)
        journey = session.get(Journey, reminder.journey_id)
        if owner is None or journey is None:
            continue
        claimed.append(
            DueReminder(channel=owner.channel, workspace=owner.workspace, user_id=owner.user_id, journey_id=journey.id, lang=journey.lang, title=journey.title)
        )
    return claimed


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
