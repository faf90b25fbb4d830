"""Store side of living journeys: versions, reminders, to-dos and survey answers, inside the caller's session."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from store.living import JourneyVersion, Reminder, SurveyResponse, Todo
from store.models import Journey, Owner
from store.records import DueReminder, TodoRecord, VersionRecord
from store.rows import affected


def todo_key(kind: str, title: str) -> str:
    return hashlib.sha256(f"{kind}\n{title}".encode()).hexdigest()[:32]


def active_todos(session: Session, journey_id: int | None) -> list[TodoRecord]:
    if journey_id is None:
        return []
    rows = session.scalars(select(Todo).where(Todo.journey_id == journey_id, Todo.active.is_(True)).order_by(Todo.id))
    return [TodoRecord(id=t.id, key=t.key, kind=t.kind, title=t.title, status=t.status) for t in rows]


def set_todo_status(session: Session, journey_id: int, todo_id: int, status: str) -> None:
    # the journey id in the filter keeps one owner's command away from another owner's to-dos
    session.execute(update(Todo).where(Todo.id == todo_id, Todo.journey_id == journey_id).values(status=status))


def sync_todos(session: Session, journey_id: int, items: Iterable[tuple[str, str]]) -> None:
    """Make the active to-dos the given (kind, title) pairs, keeping the status of ones seen before."""
    wanted = {todo_key(kind, title): (kind, title) for kind, title in items}
    existing = {t.key: t for t in session.scalars(select(Todo).where(Todo.journey_id == journey_id))}
    for key, todo in existing.items():
        active = key in wanted or todo.status in ("planned", "done")
        if todo.active != active:
            todo.active = active
    for key, (kind, title) in wanted.items():
        if key not in existing:
            session.add(Todo(journey_id=journey_id, key=key, kind=kind, title=title, status="open", active=True))


def save_version(session: Session, journey_id: int) -> int:
    latest = session.scalar(select(func.max(JourneyVersion.number)).where(JourneyVersion.journey_id == journey_id)) or 0
    answers = session.scalar(select(Journey.answers).where(Journey.id == journey_id)) or {}
    todos = {t.key: t.status for t in session.scalars(select(Todo).where(Todo.journey_id == journey_id))}
    session.add(JourneyVersion(journey_id=journey_id, number=latest + 1, answers=dict(answers), todos=todos))
    return latest + 1


def has_version(session: Session, journey_id: int) -> bool:
    return session.scalar(select(JourneyVersion.id).where(JourneyVersion.journey_id == journey_id).limit(1)) is not None


def newest_versions(session: Session, journey_id: int, count: int = 2) -> list[VersionRecord]:
    rows = session.scalars(
        select(JourneyVersion).where(JourneyVersion.journey_id == journey_id).order_by(JourneyVersion.number.desc()).limit(count)
    ).all()
    return [VersionRecord(number=v.number, created=v.created_at, answers=dict(v.answers), todos=dict(v.todos or {})) for v in rows]


def add_survey_rows(session: Session, journey_id: int, rows: Iterable[tuple[dict[str, Any], str]]) -> None:
    for scores, comment in rows:
        session.add(SurveyResponse(journey_id=journey_id, scores=dict(scores), comment=comment or None))


def survey_rows(session: Session, journey_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(SurveyResponse).where(SurveyResponse.journey_id == journey_id).order_by(SurveyResponse.id))
    return [{"scores": dict(r.scores), "comment": r.comment or ""} for r in rows]


def schedule_review(session: Session, journey_id: int, owner: Owner, rhythm: str, due: datetime | None) -> None:
    """(Re)start the review clock; no due date ('never') removes the reminder."""
    if due is None:
        session.execute(delete(Reminder).where(Reminder.journey_id == journey_id))
        return
    reminder = session.scalar(select(Reminder).where(Reminder.journey_id == journey_id))
    if reminder is None:
        session.add(Reminder(journey_id=journey_id, owner_id=owner.id, channel=owner.channel, rhythm=rhythm, due_at=due))
    else:
        reminder.rhythm, reminder.due_at = rhythm, due


def claim_due_reminders(
    session: Session,
    channel: str,
    now: datetime,
    next_due: dict[str, timedelta],
    *,
    owner_id: int | None = None,
    workspace: str | None = None,
    limit: int = 50,
) -> list[DueReminder]:
    """Reminders that are due, each claimed by exactly one caller however many processes ask at once.

    The claim moves `due_at` one rhythm further with a compare-and-set on the old value, so a
    second process that read the same row updates nothing and skips it.
    """
    query = (
        select(Reminder, Owner, Journey)
        .join(Owner, Owner.id == Reminder.owner_id)
        .join(Journey, Journey.id == Reminder.journey_id)
        .where(Reminder.channel == channel, Reminder.due_at <= now)
        .order_by(Reminder.due_at)
        .limit(limit)
    )
    if owner_id is not None:
        query = query.where(Reminder.owner_id == owner_id)
    if workspace is not None:  # an installation only reaches the people of its own workspace
        query = query.where(Owner.workspace == workspace)
    claimed: list[DueReminder] = []
    for reminder, owner, journey in session.execute(query).all():
        step = next_due.get(reminder.rhythm) or next(iter(next_due.values()))
        result = session.execute(
            update(Reminder)
            .where(Reminder.id == reminder.id, Reminder.due_at == reminder.due_at)
            .values(due_at=now + step, last_sent_at=now)
            .execution_options(synchronize_session=False)
        )
        if affected(result) != 1:
            continue
        claimed.append(
            DueReminder(
                id=reminder.id,
                channel=owner.channel,
                workspace=owner.workspace,
                user_id=owner.user_id,
                journey_id=journey.id,
                lang=journey.lang,
                title=journey.title,
                due_at=reminder.due_at,
            )
        )
    return claimed


def release_reminder(session: Session, reminder: DueReminder) -> None:
    """A claimed reminder that could not be sent is due again at once, for the next pass."""
    session.execute(
        update(Reminder).where(Reminder.id == reminder.id).values(due_at=reminder.due_at).execution_options(synchronize_session=False)
    )


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
