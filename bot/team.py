"""Team journeys: teammates' feeling scores next to the owner's, and where the team disagrees.

Contributions never change the owner's answers; the summary shows them beside the owner's scores.
The rules of contributing live here too: which scores count, which stages a team owns, which
touchpoint a teammate means and whether it is one they added.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Protocol

import prompts
from bot import texts
from bot.flow import SCALE
from bot.journey import JourneyView, StageView

DISAGREEMENT = 2  # scores this far apart (e.g. 2 and 4) count as a disagreement


class Contribution(Protocol):
    """One teammate's score for a touchpoint, or a touchpoint they added."""

    # read-only: frozen records satisfy it
    @property
    def user_id(self) -> str: ...
    @property
    def stage_slug(self) -> str: ...
    @property
    def stage_name(self) -> str: ...
    @property
    def touchpoint(self) -> str: ...
    @property
    def added(self) -> bool: ...
    @property
    def score(self) -> int | None: ...


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
                rows.append(TeamRow(stage.name, tp.name, tp.score, scores))
    added = [c for c in contributions if (c.stage_slug, c.touchpoint.casefold()) not in known]
    return rows, added


MAX_TOUCHPOINT = 200  # characters of a touchpoint name a teammate adds


def valid_score(score: int | None) -> bool:
    return score is None or 1 <= score <= 5


def scores() -> list[str]:
    """The score values a teammate can give, lowest first (the interview's feeling scale)."""
    return [str(v) for v in SCALE]


def touchpoint_name(raw: str) -> str:
    """A touchpoint name as a teammate typed or tapped it, trimmed to what is kept."""
    return " ".join(raw.split())[:MAX_TOUCHPOINT]


def team_of(word: str) -> str | None:
    """The team option a teammate names (`sales`, `Verkoop`, `klantenservice`...), in either language."""
    folded = word.strip().casefold()
    if not folded:
        return None
    for lang in prompts.LANGUAGES:
        for value, label in texts.questions(lang)["touchpoint.team"]["options"].items():
            if folded in (str(value).casefold(), str(label).casefold()):
                return str(value)
    return None


def stages_owned_by(view: JourneyView, team: str) -> list[StageView]:
    """The stages with at least one touchpoint that `team` owns."""
    return [s for s in view.stages if any(tp.team.known and tp.team.value == team for tp in s.touchpoints)]


def stage_of(view: JourneyView, slug: str) -> StageView | None:
    return next((s for s in view.stages if s.slug == slug), None)


def stage_numbered(view: JourneyView, number: int) -> StageView | None:
    """Stage `number` as the owner sees it (1 is the first)."""
    return view.stages[number - 1] if 1 <= number <= len(view.stages) else None


def is_added(stage: StageView, touchpoint: str) -> bool:
    """Whether `touchpoint` is one the owner does not have in this stage (a teammate's addition)."""
    return not any(tp.name.casefold() == touchpoint.casefold() for tp in stage.touchpoints)


def parse_add(arg: str) -> tuple[int, str] | None:
    """`2 Price comparison site` -> (2, "Price comparison site"); None when it is not that shape."""
    number, _, name = arg.strip().partition(" ")
    name = touchpoint_name(name)
    if not number.isdigit() or not name:
        return None
    return int(number), name
