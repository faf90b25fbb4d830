"""Survey links: the token customers answer at, their submissions, and the news for the owner.

A token is bound to one journey version; only an open link takes answers. A submission carries the
browser's own key (a nonce in the form), so pressing "send" twice stores one answer."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.living import JourneyVersion, SurveyLink, SurveyResponse
from store.models import Journey, Owner
from store.records import OwnerKey

STORED, DUPLICATE, CLOSED = "stored", "duplicate", "closed"


@dataclass(frozen=True)
class LinkRecord:
    token: str
    journey_id: int
    version: int
    created_at: datetime
    closed: bool
    answers: int  # customers' answers that came in through this link


@dataclass(frozen=True)
class PageRecord:
    """What the page for one token needs: the journey's answers (for the questions), never the owner."""

    link_id: int
    journey_id: int
    lang: str
    answers: dict[str, Any]
    closed: bool


@dataclass(frozen=True)
class NewsRecord:
    owner: OwnerKey
    journey_id: int
    title: str
    lang: str
    new: int  # answers not announced before
    total: int


def _owned_journey(session: Session, key: OwnerKey, journey_id: int) -> Journey | None:
    return session.scalar(
        select(Journey)
        .join(Owner, Owner.id == Journey.owner_id)
        .where(Journey.id == journey_id, Owner.channel == key.channel, Owner.workspace == key.workspace, Owner.user_id == key.user_id)
    )


def _open_link(session: Session, journey_id: int) -> SurveyLink | None:
    return session.scalar(
        select(SurveyLink).where(SurveyLink.journey_id == journey_id, SurveyLink.closed_at.is_(None)).order_by(SurveyLink.id.desc()).limit(1)
    )


def _record(session: Session, link: SurveyLink) -> LinkRecord:
    count = session.scalar(select(func.count()).select_from(SurveyResponse).where(SurveyResponse.link_id == link.id)) or 0
    return LinkRecord(link.token, link.journey_id, link.version, link.created_at, link.closed_at is not None, int(count))


def open_link(session: Session, key: OwnerKey, journey_id: int, now: datetime, *, renew: bool = False) -> LinkRecord | None:
    """The journey's open link, made when there is none (or a new one when `renew`); None when the
    journey is not the owner's."""
    journey = _owned_journey(session, key, journey_id)
    if journey is None:
        return None
    current = _open_link(session, journey_id)
    if current is not None and not renew:
        return _record(session, current)
    if current is not None:
        current.closed_at = now
    version = session.scalar(select(func.max(JourneyVersion.number)).where(JourneyVersion.journey_id == journey_id)) or 0
    link = SurveyLink(journey_id=journey_id, token=secrets.token_urlsafe(24), version=int(version), created_at=now, announced=0)
    session.add(link)
    session.flush()
    return _record(session, link)


def close_link(session: Session, key: OwnerKey, journey_id: int, now: datetime) -> bool:
    """Close the journey's open link; False when there was none (or the journey is not the owner's)."""
    if _owned_journey(session, key, journey_id) is None:
        return False
    current = _open_link(session, journey_id)
    if current is None:
        return False
    current.closed_at = now
    return True


def page(session: Session, token: str) -> PageRecord | None:
    row = session.execute(
        select(SurveyLink.id, SurveyLink.closed_at, Journey.id, Journey.lang, Journey.answers)
        .join(Journey, Journey.id == SurveyLink.journey_id)
        .where(SurveyLink.token == token)
    ).first()
    if row is None:
        return None
    link_id, closed_at, journey_id, lang, answers = row
    return PageRecord(link_id, journey_id, lang or "en", dict(answers or {}), closed_at is not None)


def submit(session: Session, token: str, scores: dict[str, int], comment: str | None, submission: str, now: datetime) -> str:
    """Store one customer's answers once; STORED, DUPLICATE (that submission was stored before) or CLOSED."""
    link = session.scalar(select(SurveyLink).where(SurveyLink.token == token))
    if link is None or link.closed_at is not None:
        return CLOSED
    if session.scalar(select(SurveyResponse.id).where(SurveyResponse.submission == submission)) is not None:
        return DUPLICATE
    try:
        with session.begin_nested():
            session.add(SurveyResponse(journey_id=link.journey_id, scores=dict(scores), comment=comment or None, created_at=now, link_id=link.id, submission=submission))
    except IntegrityError:  # the same submission racing in another process
        return DUPLICATE
    return STORED


def news(session: Session, channel: str, workspace: str | None = None) -> list[NewsRecord]:
    """Owners of `channel` with customers' answers they were not told about yet; marks them told."""
    counts = (
        select(SurveyResponse.link_id, func.count().label("n")).where(SurveyResponse.link_id.is_not(None)).group_by(SurveyResponse.link_id).subquery()
    )
    rows = session.execute(
        select(SurveyLink, counts.c.n, Journey.title, Journey.lang, Owner.channel, Owner.workspace, Owner.user_id)
        .join(counts, counts.c.link_id == SurveyLink.id)
        .join(Journey, Journey.id == SurveyLink.journey_id)
        .join(Owner, Owner.id == Journey.owner_id)
        .where(Owner.channel == channel, counts.c.n > SurveyLink.announced, *([Owner.workspace == workspace] if workspace is not None else []))
        .with_for_update(of=SurveyLink, skip_locked=True)
    ).all()
    out = []
    for link, total, title, lang, ch, ws, user in rows:
        out.append(NewsRecord(OwnerKey(ch, ws, user), link.journey_id, title or "", lang or "en", int(total) - link.announced, int(total)))
        session.execute(update(SurveyLink).where(SurveyLink.id == link.id).values(announced=int(total)))
    return out
