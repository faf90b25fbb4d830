"""WOW moments that fit their step: matched on the stage kind, the channel and the sector, tied to what the
persona wants (trigger, goal, trust, worries, what already delights), never at a step that is still broken
(Kano: must-haves first), never two on one step, never a physical gesture at an online step."""
from __future__ import annotations

from bot.coach.context import Context, Spot
from bot.coach.money import cost_text
from bot.coach.remedies import stems
from bot.knowledge import PHYSICAL_GROUPS, WowIdea, wow_ideas
from bot.report import WowMoment

WANTED = 4
AT_LEAST = 3
ANCHOR_FIELDS = {"trigger": "persona.trigger", "goal": "persona.goals", "trust": "persona.trust", "pains": "persona.pains"}


def anchors(ctx: Context) -> dict[str, str]:
    """The persona's answers a WOW idea can build on, by anchor name."""
    found = {name: ctx.answer(key) for name, key in ANCHOR_FIELDS.items() if ctx.answer(key)}
    delights = [s.delights.text for s in ctx.journey.stages if s.delights] or ([ctx.answer("journey.delights")] if ctx.answer("journey.delights") else [])
    if delights:
        found["delights"] = delights[0]
    return found


def fits(idea: WowIdea, spot: Spot, sector: str, anchored: dict[str, str], strict: bool = True) -> bool:
    """Whether `idea` can happen at `spot`. Not strict: any stage kind and any anchor, never another
    sector's idea, never a physical gesture away from a face-to-face step or a parcel."""
    if idea.sectors and sector not in idea.sectors:
        return False
    if strict and idea.stages and spot.kind not in idea.stages:
        return False
    if strict and idea.builds_on != "none" and idea.builds_on not in anchored:
        return False
    if spot.group is None:  # channel unknown: never a physical gesture; strictly, only ideas for most channels
        return not idea.physical and (len(idea.channels) >= 3 or not strict)
    if idea.physical and spot.group not in PHYSICAL_GROUPS:
        return False
    return spot.group in idea.channels


def _score(idea: WowIdea, spot: Spot, peak: str | None) -> int:
    return (
        2 * min(2, len(stems(spot.tp.name) & stems(idea.idea)))  # the idea speaks of what happens at the step
        + (4 if idea.sectors else 0)
        + (2 if idea.stages else 0)
        + (3 if spot.last else 0)
        + (1 if spot.key == peak else 0)
        + (1 if spot.first else 0)
        + (1 if idea.builds_on != "none" else 0)
    )


def wow_moments(ctx: Context) -> list[WowMoment]:
    spots = ctx.spots
    if not spots:
        return []
    anchored = anchors(ctx)
    library = wow_ideas(ctx.lang)
    order = {idea.id: n for n, idea in enumerate(library)}
    scored = [s for s in spots if s.score is not None]
    peak = max(scored, key=lambda s: s.score).key if scored else None  # type: ignore[arg-type,return-value]
    healthy = [s for s in spots if s.score is None or s.score >= 3]
    chosen: list[tuple[WowIdea, Spot]] = []
    # broken steps only when the healthy ones cannot carry three ideas; looser fits only when strict ones cannot
    for pool, strict in ((healthy, True), (spots, True), (spots, False)):
        pairs = [(idea, spot) for spot in pool for idea in library if fits(idea, spot, ctx.sector, anchored, strict)]
        pairs.sort(key=lambda p: (-_score(p[0], p[1], peak), order[p[0].id], p[1].stage.index, p[1].tp.index))
        for distinct_stages in (True, False):
            for idea, spot in pairs:
                if len(chosen) >= WANTED:
                    break
                if any(idea.id == i.id or spot.key == s.key for i, s in chosen):
                    continue
                if distinct_stages and any(spot.stage.slug == s.stage.slug for _, s in chosen):
                    continue
                chosen.append((idea, spot))
            if len(chosen) >= AT_LEAST:
                break
        if len(chosen) >= AT_LEAST:
            break
    chosen.sort(key=lambda p: (p[1].stage.index, p[1].tp.index))
    return [_moment(ctx, idea, spot, anchored) for idea, spot in chosen]


def _moment(ctx: Context, idea: WowIdea, spot: Spot, anchored: dict[str, str]) -> WowMoment:
    basis = anchored.get(idea.builds_on, "") or f"{spot.tp.name}" + (f": {spot.score}/5" if spot.score is not None else "")
    return WowMoment(
        stage=spot.stage.name,
        idea=ctx.fill(idea.idea, spot),
        why=ctx.fill(idea.why, spot),
        cost=cost_text(ctx, idea),
        trigger=ctx.quote(basis),
        touchpoint=f"{spot.stage.name} › {spot.tp.name}",
        ref=idea.id,
    )
