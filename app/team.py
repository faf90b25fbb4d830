"""Team journeys, the use cases: an owner shares a journey into a channel; teammates there see it
read-only, score its touchpoints and add the ones the owner missed.

Channel adapters call these through `Journeys.team`. The platform's own checks (is this person a
member of the channel?) stay in the adapter; everything the database can check is checked here
and in the store, whatever the adapter did.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot import team as rules
from bot.journey import JourneyView, StageView, build_view
from store.records import ContributionRecord, JourneyNotFound, OwnerKey, ShareDenied, ShareRecord
from store.repository import Store
from store.sharing import Sharing

__all__ = ["Team", "Shared", "Contributed", "ShareRecord", "ContributionRecord", "ShareDenied"]


@dataclass(frozen=True)
class Shared:
    """The outcome of sharing: the share, and whether it is new (False: it was shared there before)."""

    share: ShareRecord
    created: bool


@dataclass(frozen=True)
class Contributed:
    """A recorded contribution: the stage and touchpoint it is for; `added` when the owner lacks it.
    `recorded` is False when the same event (a double tap, a re-delivery) was recorded before."""

    stage: StageView
    touchpoint: str
    score: int | None
    added: bool
    recorded: bool


class Team:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.sharing = Sharing(store.engine)

    # -- the owner -----------------------------------------------------------------------
    def share(self, owner: OwnerKey, channel_id: str, journey_id: int | None = None) -> Shared:
        """Share the owner's journey (the current one unless named) into a channel of their workspace.

        JourneyNotFound when the owner has no journey; ShareDenied when it is not theirs."""
        if journey_id is None:
            journey_id = self.store.current_journey_id(owner)
        if journey_id is None:
            raise JourneyNotFound(None)
        share, created = self.sharing.share(owner, journey_id, channel_id)
        return Shared(share, created)

    def shared_in(self, owner: OwnerKey, journey_id: int, channel_id: str) -> bool:
        """Whether this owner's journey is shared into this channel of their workspace (their
        summary may then be shown there, for the team to see)."""
        return any(
            s.channel_id == channel_id and s.workspace == owner.workspace and s.platform == owner.channel and s.owner_user_id == owner.user_id
            for s in self.sharing.shares_of_journey(journey_id)
        )

    def contributions(self, journey_id: int) -> list[ContributionRecord]:
        return self.sharing.contributions(journey_id)

    # -- teammates -----------------------------------------------------------------------
    def shares_in(self, who: OwnerKey, channel_id: str) -> list[ShareRecord]:
        """The journeys shared into this channel of this person's workspace, oldest first."""
        return self.sharing.shares_in(who.channel, who.workspace, channel_id)

    def authorize(self, who: OwnerKey, share_id: int, channel_id: str) -> ShareRecord:
        """The share when it lives in this person's workspace and in this channel; ShareDenied otherwise.
        (Whether they are a member of the channel is the platform's to say: the adapter checks it.)"""
        return self.sharing.authorize(share_id, who.channel, who.workspace, channel_id)

    def view(self, share: ShareRecord) -> JourneyView:
        """The shared journey, read-only, for a teammate authorised on `share`."""
        try:
            data = self.store.shared_journey_data(share.journey_id)
        except JourneyNotFound:
            raise ShareDenied(share.id) from None
        return build_view(dict(data.journey.answers), share.lang, data.journey.id)

    def stages_for(self, share: ShareRecord, team: str | None) -> tuple[JourneyView, list[StageView], bool]:
        """(the view, the stages to offer, whether they are narrowed to the team's). With a team that
        owns no step, every stage is offered."""
        view = self.view(share)
        if team:
            owned = rules.stages_owned_by(view, team)
            if owned:
                return view, owned, True
        return view, list(view.stages), False

    def score(self, who: OwnerKey, share: ShareRecord, stage_slug: str, touchpoint: str, score: int, *, dedup_key: str | None = None) -> Contributed | None:
        """The teammate's score (1..5) for a touchpoint of a stage. None when the stage is gone or the
        score is not one of the scale (a stale or forged button)."""
        if isinstance(score, bool) or not isinstance(score, int) or not rules.valid_score(score):
            return None
        view = self.view(share)
        stage = rules.stage_of(view, stage_slug)
        name = rules.touchpoint_name(touchpoint)
        if stage is None or not name:
            return None
        return self._record(who, share, stage, name, score, dedup_key)

    def add_touchpoint(self, who: OwnerKey, share: ShareRecord, stage_number: int, touchpoint: str) -> Contributed | None:
        """A touchpoint the teammate adds to stage `stage_number` (1 is the first), unscored yet.
        None when there is no such stage."""
        view = self.view(share)
        stage = rules.stage_numbered(view, stage_number)
        name = rules.touchpoint_name(touchpoint)
        if stage is None or not name:
            return None
        return self._record(who, share, stage, name, None, None)

    def _record(self, who: OwnerKey, share: ShareRecord, stage: StageView, name: str, score: int | None, dedup_key: str | None) -> Contributed:
        if who.workspace != share.workspace or who.channel != share.platform:
            raise ShareDenied(share.id)
        added = rules.is_added(stage, name)
        recorded = self.sharing.contribute(
            share, who.user_id, stage_slug=stage.slug, stage_name=stage.name, touchpoint=name, score=score, added=added, dedup_key=dedup_key
        )
        return Contributed(stage=stage, touchpoint=name, score=score, added=added, recorded=recorded)

    def forget_contributor(self, who: OwnerKey) -> int:
        """Delete what this person contributed to other people's journeys (`/forget` does this too)."""
        return self.sharing.forget_contributor(who)
