"""Team journeys: a journey shared into a workspace channel, and teammates' contributions to it.

A share ties one journey to one channel of the owner's workspace. A contribution is one
teammate's score for a touchpoint of a stage (an existing touchpoint, or one they added).
Contributions never change the owner's answers: the summary shows them next to the
owner's scores, and where the team disagrees.

Access rules, enforced here and not only in the adapter:
- only the journey's owner can share it, and only into their own workspace;
- a contributor must be in the same workspace as the share (the caller also checks
  channel membership with the platform), and only touches journeys shared there.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.journey import JourneyView, build_view
from store.models import Contribution, Journey, JourneyShare, Owner, ProcessedContribution

T = TypeVar("T")


# ---------------------------------------------------------------------- read models


@dataclass(frozen=True)
class ShareInfo:
    id: int
    journey_id: int
    platform: str
    workspace: str
    channel_id: str
    owner_user_id: str
    title: str
    lang: str


@dataclass(frozen=True)
class ContributionInfo:
    user_id: str
    stage_slug: str
    stage_name: str
    touchpoint: str
    added: bool
    score: int | None


class ShareDenied(PermissionError):
    """The caller may not share, read or change this journey."""


class Sharing:
    """Repository for shares and contributions. Every method is one transaction."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    def _tx(self, work: Callable[[Session], T]) -> T:
        with self.sessions.begin() as session:
            return work(session)

    # -- owner side ----------------------------------------------------------
    def share(self, platform: str, workspace: str, user_id: str, journey_id: int, channel_id: str) -> tuple[ShareInfo, bool]:
        """Share the owner's journey into a channel of the owner's workspace. (info, newly created)."""

        def work(session: Session) -> tuple[ShareInfo, bool]:
            owner = _owner(session, platform, workspace, user_id)
            journey = session.get(Journey, journey_id)
            if owner is None or journey is None or journey.owner_id != owner.id:
                raise ShareDenied(journey_id)
            existing = session.scalar(
                select(JourneyShare).where(
                    JourneyShare.journey_id == journey_id,
                    JourneyShare.platform == platform,
                    JourneyShare.workspace == workspace,
                    JourneyShare.channel_id == channel_id,
                )
            )
            if existing is not None:
                return _info(existing, owner, journey), False
            share = JourneyShare(journey_id=journey_id, owner_id=owner.id, platform=platform, workspace=workspace, channel_id=channel_id)
            session.add(share)
            session.flush()
            return _info(share, owner, journey), True

        try:
            return self._tx(work)
        except IntegrityError:  # a racing identical share
            return self._tx(work)

    def shares_of_journey(self, journey_id: int) -> list[ShareInfo]:
        def work(session: Session) -> list[ShareInfo]:
            rows = session.execute(
                select(JourneyShare, Owner, Journey)
                .join(Owner, Owner.id == JourneyShare.owner_id)
                .join(Journey, Journey.id == JourneyShare.journey_id)
                .where(JourneyShare.journey_id == journey_id)
                .order_by(JourneyShare.id)
            )
            return [_info(s, o, j) for s, o, j in rows]

        return self._tx(work)

    # -- contributor side ------------------------------------------------------
    def shares_in(self, platform: str, workspace: str, channel_id: str) -> list[ShareInfo]:
        """Journeys shared into this channel of this workspace."""

        def work(session: Session) -> list[ShareInfo]:
            rows = session.execute(
                select(JourneyShare, Owner, Journey)
                .join(Owner, Owner.id == JourneyShare.owner_id)
                .join(Journey, Journey.id == JourneyShare.journey_id)
                .where(JourneyShare.platform == platform, JourneyShare.workspace == workspace, JourneyShare.channel_id == channel_id)
                .order_by(JourneyShare.id)
            )
            return [_info(s, o, j) for s, o, j in rows]

        return self._tx(work)

    def authorize(self, share_id: int, platform: str, workspace: str, channel_id: str | None = None) -> ShareInfo:
        """The share, if it exists in this workspace (and channel, when given); ShareDenied otherwise."""

        def work(session: Session) -> ShareInfo:
            share = session.get(JourneyShare, share_id)
            if share is None or share.platform != platform or share.workspace != workspace:
                raise ShareDenied(share_id)
            if channel_id is not None and share.channel_id != channel_id:
                raise ShareDenied(share_id)
            owner = session.get(Owner, share.owner_id)
            journey = session.get(Journey, share.journey_id)
            if owner is None or journey is None or owner.workspace != workspace:
                raise ShareDenied(share_id)
            return _info(share, owner, journey)

        return self._tx(work)

    def journey_view(self, share: ShareInfo) -> JourneyView:
        """The shared journey, read-only, for a contributor already authorised on `share`."""

        def work(session: Session) -> JourneyView:
            journey = session.get(Journey, share.journey_id)
            if journey is None:
                raise ShareDenied(share.id)
            return build_view(dict(journey.answers), share.lang, journey.id)

        return self._tx(work)

    def contribute(
        self,
        share: ShareInfo,
        user_id: str,
        *,
        stage_slug: str,
        stage_name: str,
        touchpoint: str,
        score: int | None = None,
        added: bool = False,
        dedup_key: str | None = None,
    ) -> bool:
        """Record (or update) the teammate's score / added touchpoint. False when `dedup_key` was seen."""
        if score is not None and not 1 <= score <= 5:
            raise ValueError("score must be 1..5")
        touchpoint = touchpoint.strip()[:200]

        def work(session: Session) -> bool:
            if dedup_key is not None:
                if session.get(ProcessedContribution, dedup_key) is not None:
                    return False
                session.add(ProcessedContribution(key=dedup_key))
            if session.get(JourneyShare, share.id) is None:
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
                row = Contribution(
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
                session.add(row)
            elif score is not None:
                row.score = score
            return True

        try:
            return self._tx(work)
        except IntegrityError:
            if dedup_key is not None:
                return False
            return self._tx(work)

    def contributions(self, journey_id: int) -> list[ContributionInfo]:
        def work(session: Session) -> list[ContributionInfo]:
            rows = session.scalars(select(Contribution).where(Contribution.journey_id == journey_id).order_by(Contribution.id))
            return [ContributionInfo(r.user_id, r.stage_slug, r.stage_name, r.touchpoint, r.added, r.score) for r in rows]

        return self._tx(work)

    def forget_contributor(self, platform: str, workspace: str, user_id: str) -> None:
        """Delete what this person contributed to other people's journeys."""

        def work(session: Session) -> None:
            session.execute(
                delete(Contribution).where(
                    Contribution.platform == platform, Contribution.workspace == workspace, Contribution.user_id == user_id
                )
            )

        self._tx(work)


def _owner(session: Session, platform: str, workspace: str, user_id: str) -> Owner | None:
    return session.scalar(select(Owner).where(Owner.channel == platform, Owner.workspace == workspace, Owner.user_id == user_id))


def _info(share: JourneyShare, owner: Owner, journey: Journey) -> ShareInfo:
    return ShareInfo(
        id=share.id,
        journey_id=share.journey_id,
        platform=share.platform,
        workspace=share.workspace,
        channel_id=share.channel_id,
        owner_user_id=owner.user_id,
        title=journey.title,
        lang=journey.lang,
    )
