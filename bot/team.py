"""Team journeys: teammates' feeling scores next to the owner's, and where the team disagrees.

Contributions never change the owner's answers; the summary shows them beside the owner's scores.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Protocol

from bot.journey import JourneyView

DISAGREEMENT = 2  # scores this far apart (e.g. 2 and 4) count as a disagreement


class Contribution(Protocol):
    """One teammate's score for a touchpoint, or a touchpoint they added."""

    user_id: str
    stage_slug: str
    stage_name: str
    touchpoint: str
    added: bool
    score: int | None


@dataclass(frozen=True)
class TeamRow:
    stage_name: str
    touchpoint: str
    owner_score: int | None
    scores: tuple[tuple[str, int], ...]  # (user id, score) of teammates

    @property
    def all_scores(self) -> list[int]:
        values = [s for _, s in self.scores]
        return values + ([self.owner_score] if self.owner_score is not None else [])

    @property
    def spread(self) -> int:
        values = self.all_scores
        return max(values) - min(values) if len(values) >= 2 else 0

    @property
    def disagree(self) -> bool:
        return self.spread >= DISAGREEMENT


def team_rows(view: JourneyView, contributions: Iterable[Contribution]) -> tuple[list[TeamRow], list[Contribution]]:
    """Teammates' scores next to the owner's, per existing touchpoint; and the touchpoints they added."""
    contributions = list(contributions)
    rows: list[TeamRow] = []
    known: set[tuple[str, str]] = set()
    for stage in view.stages:
        for tp in stage.touchpoints:
            known.add((stage.slug, tp.name.casefold()))
            scores = tuple(
                (c.user_id, c.score)
                for c in contributions
                if c.stage_slug == stage.slug and c.touchpoint.casefold() == tp.name.casefold() and c.score is not None
            )
            if scores:
                rows.append(TeamRow(stage.name, tp.name, tp.score, scores))  # type: ignore[arg-type]
    added = [c for c in contributions if (c.stage_slug, c.touchpoint.casefold()) not in known]
    return rows, added


def valid_score(score: int | None) -> bool:
    return score is None or 1 <= score <= 5
