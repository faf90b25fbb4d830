"""Team journeys in the database: a journey shared into a workspace channel, and teammates'
contributions to it. Persistence only: records in, records out (store/records.py).

A share ties one journey to one channel of the owner's workspace. A contribution is one
teammate's score for a touchpoint of a stage (an existing touchpoint, or one they added).
Contributions never change the owner's answers.

Access rules, enforced here and not only in the adapter:
- only the journey's owner can share it, and only into their own workspace;
- a contributor must be in the same workspace as the share (the caller also checks
  channel membership with the platform), and only touches journeys shared there.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable, TypeVar

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from store import outbox
from store.models import Contribution, Journey, JourneyShare, Owner, ProcessedContribution
from store.records import ContributionRecord, OwnerKey, ShareDenied, ShareRecord
from store.rows import affected

T = TypeVar("T")
TOUCHPOINT_CHARS = 200  # the column's size

__all__ = ["Sharing", "ShareDenied", "ShareRecord", "ContributionRecord"]


class Sharing:
    """Shares and contributions. Every method is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    def _tx(self, work: Callable[[Session], T]) -> T:
        with self.sessions.begin() as session:
            return work(session)

    def prune(self, cutoff: datetime) -> int:
        return self._tx(lambda session: prune_contribution_keys(session, cutoff))

    # -- owner side ----------------------------------------------------------
    def share(self, owner: OwnerKey, journey_id: int, channel_id: str) -> tuple[ShareRecord, bool]:
        """Share the owner's journey into a channel of the owner's workspace. (record, newly created)."""

        def work(session: Session) -> tuple[ShareRecord, bool]:
            found = _owner(session, owner)
            journey = session.get(Journey, journey_id)
            if found is None or journey is None or journey.owner_id != found.id:
                raise ShareDenied(journey_id)
            existing = session.scalar(
                select(JourneyShare).where(
                    JourneyShare.journey_id == journey_id,
                    JourneyShare.platform == owner.channel,
                    JourneyShare.workspace == owner.workspace,
                    JourneyShare.channel_id == channel_id,
                )
            )
            if existing is not None:
                return _record(existing, found, journey), False
            share = JourneyShare(journey_id=journey_id, owner_id=found.id, platform=owner.channel, workspace=owner.workspace, channel_id=channel_id)
            session.add(share)
            session.flush()
            return _record(share, found, journey), True

        try:
            return self._tx(work)
        except IntegrityError:  # a racing identical share
            return self._tx(work)

    def shares_of_journey(self, journey_id: int) -> list[ShareRecord]:
        def work(session: Session) -> list[ShareRecord]:
            rows = session.execute(
                select(JourneyShare, Owner, Journey)
                .join(Owner, Owner.id == JourneyShare.owner_id)
                .join(Journey, Journey.id == JourneyShare.journey_id)
                .where(JourneyShare.journey_id == journey_id)
                .order_by(JourneyShare.id)
            )
            return [_record(s, o, j) for s, o, j in rows]

        return self._tx(work)

    # -- contributor side ------------------------------------------------------
    def shares_in(self, platform: str, workspace: str, channel_id: str) -> list[ShareRecord]:
        """Journeys shared into this channel of this workspace."""

        def work(session: Session) -> list[ShareRecord]:
            rows = session.execute(
                select(JourneyShare, Owner, Journey)
                .join(Owner, Owner.id == JourneyShare.owner_id)
                .join(Journey, Journey.id == JourneyShare.journey_id)
                .where(JourneyShare.platform == platform, JourneyShare.workspace == workspace, JourneyShare.channel_id == channel_id)
                .order_by(JourneyShare.id)
            )
            return [_record(s, o, j) for s, o, j in rows]

        return self._tx(work)

    def authorize(self, share_id: int, platform: str, workspace: str, channel_id: str | None = None) -> ShareRecord:
        """The share, if it exists in this workspace (and channel, when given); ShareDenied otherwise."""

        def work(session: Session) -> ShareRecord:
            share = session.get(JourneyShare, share_id)
            if share is None or share.platform != platform or share.workspace != workspace:
                raise ShareDenied(share_id)
            if channel_id is not None and share.channel_id != channel_id:
                raise ShareDenied(share_id)
            owner = session.get(Owner, share.owner_id)
            journey = session.get(Journey, share.journey_id)
            if owner is None or journey is None or owner.workspace != workspace:
                raise ShareDenied(share_id)
            return _record(share, owner, journey)

        return self._tx(work)

    def contribute(
        self,
        share: ShareRecord,
        user_id: str,
        *,
        stage_slug: str,
        stage_name: str,
        touchpoint: str,
        score: int | None = None,
        added: bool = False,
        dedup_key: str | None = None,
    ) -> bool:
        """Record (or update) the teammate's score / added touchpoint. False when `dedup_key` was seen.

        ShareDenied when the share is gone or is not the one this record describes."""
        touchpoint = touchpoint[:TOUCHPOINT_CHARS]

        key = contribution_key(OwnerKey(share.platform, share.workspace, user_id), dedup_key) if dedup_key is not None else None

        def work(session: Session) -> bool:
            if key is not None:
                if session.get(ProcessedContribution, key) is not None:
                    return False
                session.add(ProcessedContribution(key=key))
            stored = session.get(JourneyShare, share.id)
            if stored is None or (stored.journey_id, stored.platform, stored.workspace) != (share.journey_id, share.platform, share.workspace):
                raise ShareDenied(share.id)
            row = session.scalar(
                select(Contribution).where(
                    Contribution.journey_id == share.journey_id,
                    Contribution.workspace == share.workspace,
                    Contribution.user_id == user_id,
                    Contribution.stage_slug == stage_slug,
                    Contribution.touchpoint == touchpoint,
                )
            )
            if row is None:
                session.add(
                    Contribution(
                        journey_id=share.journey_id,
                        share_id=share.id,
                        platform=share.platform,
                        workspace=share.workspace,
                        user_id=user_id,
                        stage_slug=stage_slug,
                        stage_name=stage_name,
                        touchpoint=touchpoint,
                        added=added,
                        score=score,
                    )
                )
            elif score is not None:
                row.score = score
            return True

        try:
            return self._tx(work)
        except IntegrityError:  # the same dedup key or the same contribution, written at the same moment
            if dedup_key is not None:
                return False
            return self._tx(work)

    def contributions(self, journey_id: int) -> list[ContributionRecord]:
        def work(session: Session) -> list[ContributionRecord]:
            rows = session.scalars(select(Contribution).where(Contribution.journey_id == journey_id).order_by(Contribution.id))
            return [ContributionRecord(r.user_id, r.stage_slug, r.stage_name, r.touchpoint, r.added, r.score) for r in rows]

        return self._tx(work)

    def forget_contributor(self, who: OwnerKey) -> int:
        """Delete what this person contributed to other people's journeys; how many rows went."""

        return self._tx(lambda session: delete_contributions(session, who))


def _owner(session: Session, key: OwnerKey) -> Owner | None:
    return session.scalar(select(Owner).where(Owner.channel == key.channel, Owner.workspace == key.workspace, Owner.user_id == key.user_id))


def _record(share: JourneyShare, owner: Owner, journey: Journey) -> ShareRecord:
    return ShareRecord(
        id=share.id,
        journey_id=share.journey_id,
        platform=share.platform,
        workspace=share.workspace,
        channel_id=share.channel_id,
        owner_user_id=owner.user_id,
        title=journey.title,
        lang=journey.lang,
    )


def contribution_key(who: OwnerKey, dedup_key: str) -> str:
    """A contribution event's dedup key, prefixed with who made it, so /forget can take their keys too."""
    return f"{who.channel}:{who.workspace}:{who.user_id}|{dedup_key}"[:200]


def delete_contributions(session: Session, who: OwnerKey) -> int:
    """What this person contributed to other people's journeys, and the keys of their contribution events, deleted;
    how many contributions went."""
    result = session.execute(
        delete(Contribution).where(Contribution.platform == who.channel, Contribution.workspace == who.workspace, Contribution.user_id == who.user_id)
    )
    prefix = contribution_key(who, "")
    session.execute(delete(ProcessedContribution).where(ProcessedContribution.key.startswith(prefix, autoescape=True)))
    return affected(result)


def prune_contribution_keys(session: Session, cutoff: datetime) -> int:
    """Keys of contribution events older than `cutoff`: a platform re-delivers within minutes, never days later."""
    return affected(session.execute(delete(ProcessedContribution).where(ProcessedContribution.created_at < cutoff)))


def forget_owner(session: Session, who: OwnerKey) -> None:
    """Everything of one person: their contributions elsewhere, then the owner row, which every
    other row of theirs (journeys, answers, shares, reminders) hangs off with ON DELETE CASCADE."""
    delete_contributions(session, who)
    outbox.forget(session, who)
    session.execute(delete(Owner).where(Owner.channel == who.channel, Owner.workspace == who.workspace, Owner.user_id == who.user_id))
