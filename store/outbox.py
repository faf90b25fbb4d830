"""The outbox's rows: replies written with their turn, claimed by one sender at a time, marked sent.

A claim is a lease: `due_at` moves into the future while one sender works on the row, and a sender
that dies lets the lease run out, after which any process takes the row again. On PostgreSQL the
claim skips rows another process holds locked (`FOR UPDATE SKIP LOCKED`), so several bot
processes share one outbox without waiting for each other."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import and_, delete, exists, insert, select, update
from sqlalchemy.orm import Session, aliased

from store.models import OutboxItem
from store.records import OwnerKey
from store.rows import affected

PENDING, SENT, DROPPED = "pending", "sent", "dropped"


@dataclass(frozen=True)
class OutboxRecord:
    id: int
    owner: OwnerKey
    address: dict[str, Any]
    reply: dict[str, Any]
    attempts: int
    said: str | None = None
    said_ref: str | None = None
    status: str = PENDING
    sent_ref: str | None = None


def _identity(key: OwnerKey) -> tuple[Any, ...]:
    return (OutboxItem.channel == key.channel, OutboxItem.workspace == key.workspace, OutboxItem.user_id == key.user_id)


def _record(row: OutboxItem) -> OutboxRecord:
    return OutboxRecord(
        id=row.id,
        owner=OwnerKey(row.channel, row.workspace, row.user_id),
        address=dict(row.address or {}),
        reply=dict(row.reply or {}),
        attempts=row.attempts,
        said=row.said,
        said_ref=row.said_ref,
        status=row.status,
        sent_ref=row.sent_ref,
    )


def enqueue(
    session: Session,
    key: OwnerKey,
    address: dict[str, Any],
    replies: Sequence[dict[str, Any]],
    *,
    said: str | None,
    said_ref: str | None,
    now: datetime,
    leases: Sequence[timedelta],
) -> list[int]:
    """The turn's replies, in order, held by the process that made them for `leases[i]`."""
    if not replies:
        return []
    rows = [
        {
            "channel": key.channel,
            "workspace": key.workspace,
            "user_id": key.user_id,
            "address": address,
            "reply": reply,
            "said": said,
            "said_ref": said_ref,
            "status": PENDING,
            "due_at": now + lease,
            "attempts": 0,
            "created_at": now,
        }
        for reply, lease in zip(replies, leases)
    ]
    ids = session.scalars(insert(OutboxItem).returning(OutboxItem.id, sort_by_parameter_order=True), rows).all()
    return [int(i) for i in ids]


def last_turn(session: Session, key: OwnerKey) -> list[OutboxRecord]:
    """The rows of the owner's most recent turn that stored a typed answer, if it is also their
    most recent turn with replies at all."""
    newest = session.scalars(select(OutboxItem).where(*_identity(key)).order_by(OutboxItem.id.desc()).limit(1)).first()
    if newest is None or newest.said_ref is None:
        return []
    rows = session.scalars(
        select(OutboxItem).where(*_identity(key), OutboxItem.said_ref == newest.said_ref).order_by(OutboxItem.id)
    ).all()
    return [_record(r) for r in rows]


def take_pending(session: Session, key: OwnerKey, now: datetime, lease: timedelta, *, only_due: bool) -> list[OutboxRecord]:
    """The owner's undelivered rows, oldest first, now held by the caller for `lease`. With
    `only_due`, rows another sender still holds are left to it."""
    query = select(OutboxItem).where(*_identity(key), OutboxItem.status == PENDING)
    if only_due:
        query = query.where(OutboxItem.due_at <= now)
    rows = _current(session, session.scalars(_locked(session, query.order_by(OutboxItem.id))).all(), now)
    for row in rows:
        row.due_at = now + lease
    return [_record(r) for r in rows]


def claim_due(session: Session, channel: str, now: datetime, lease: timedelta, limit: int, workspace: str | None = None) -> list[OutboxRecord]:
    """Due rows of the channel, oldest first, held for `lease`. A row waits while an older row of
    the same owner is still held elsewhere, so each chat gets its replies in order."""
    older = aliased(OutboxItem)
    held_before = exists().where(
        older.channel == OutboxItem.channel,
        older.workspace == OutboxItem.workspace,
        older.user_id == OutboxItem.user_id,
        older.status == PENDING,
        older.id < OutboxItem.id,
        older.due_at > now,
    )
    query = (
        select(OutboxItem)
        .where(OutboxItem.channel == channel, OutboxItem.status == PENDING, OutboxItem.due_at <= now, ~held_before)
        .order_by(OutboxItem.id)
        .limit(limit)
    )
    if workspace is not None:  # a Slack process holds the token of one workspace
        query = query.where(OutboxItem.workspace == workspace)
    rows = _current(session, session.scalars(_locked(session, query)).all(), now)
    for row in rows:
        row.due_at = now + lease
        row.attempts += 1
    return [_record(r) for r in rows]


def _is_question(row: OutboxItem) -> bool:
    return isinstance(row.reply, dict) and row.reply.get("type") == "question"


def _current(session: Session, rows: Sequence[OutboxItem], now: datetime) -> list[OutboxItem]:
    """`rows` without the questions a later question of the same owner replaced: those are dropped.
    Shown late, after the owner saw the newer one, an old question would take the next answer."""
    firsts: dict[tuple[str, str, str], int] = {}
    for row in rows:
        if _is_question(row):
            key = (row.channel, row.workspace, row.user_id)
            firsts[key] = min(firsts.get(key, row.id), row.id)
    newest: dict[tuple[str, str, str], int] = {}
    for (channel, workspace, user_id), first in firsts.items():
        later = session.execute(
            select(OutboxItem.id, OutboxItem.reply)
            .where(OutboxItem.channel == channel, OutboxItem.workspace == workspace, OutboxItem.user_id == user_id, OutboxItem.id >= first)
            .order_by(OutboxItem.id.desc())
        ).all()
        newest[(channel, workspace, user_id)] = next((i for i, reply in later if isinstance(reply, dict) and reply.get("type") == "question"), first)
    kept: list[OutboxItem] = []
    for row in rows:
        if _is_question(row) and row.id < newest.get((row.channel, row.workspace, row.user_id), row.id):
            row.status, row.sent_at = DROPPED, now
        else:
            kept.append(row)
    return kept


def _locked(session: Session, query: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query  # SQLite: one writer at a time already


def mark_sent(session: Session, ids: Sequence[int], ref: str | None, now: datetime) -> None:
    session.execute(
        update(OutboxItem).where(OutboxItem.id.in_(list(ids)), OutboxItem.status == PENDING).values(status=SENT, sent_at=now, sent_ref=ref)
    )


def mark_shown(session: Session, sent: dict[int, str | None], removed: set[int], now: datetime) -> None:
    """Rows the adapter showed: sent (with the platform's message id), or deleted (the confirmation
    of a `/forget`, of which nothing may stay)."""
    if sent:
        rows = [{"id": i, "status": SENT, "sent_at": now, "sent_ref": ref} for i, ref in sent.items()]
        session.execute(update(OutboxItem), rows)
    if removed:
        remove(session, list(removed))


def retry_at(session: Session, ids: Sequence[int], when: datetime) -> None:
    session.execute(update(OutboxItem).where(OutboxItem.id.in_(list(ids)), OutboxItem.status == PENDING).values(due_at=when))


def drop(session: Session, ids: Sequence[int], now: datetime) -> None:
    session.execute(update(OutboxItem).where(OutboxItem.id.in_(list(ids)), OutboxItem.status == PENDING).values(status=DROPPED, sent_at=now))


def remove(session: Session, ids: Sequence[int]) -> None:
    session.execute(delete(OutboxItem).where(OutboxItem.id.in_(list(ids))))


def forget(session: Session, key: OwnerKey) -> None:
    session.execute(delete(OutboxItem).where(*_identity(key)))


def prune(session: Session, before: datetime) -> int:
    """Delivered (or given up) rows older than `before`; pending rows stay until delivered."""
    old = delete(OutboxItem).where(and_(OutboxItem.status != PENDING, OutboxItem.created_at < before))
    return affected(session.execute(old))


def backlog(session: Session, channel: str | None = None) -> int:
    from sqlalchemy import func

    query = select(func.count()).select_from(OutboxItem).where(OutboxItem.status == PENDING)
    if channel is not None:
        query = query.where(OutboxItem.channel == channel)
    return int(session.scalar(query) or 0)
