"""Which remedies fit a step: its pain classes first, then the sector, the stage kind and the channel."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from bot.coach.context import Context, Spot
from bot.coach.money import cost_text
from bot.knowledge import Remedy, remedies
from bot.report import Action


def fits(remedy: Remedy, spot: Spot, sector: str) -> bool:
    return (
        bool(set(remedy.classes) & set(spot.classes))
        and (not remedy.sectors or sector in remedy.sectors)
        and (not remedy.stages or spot.kind in remedy.stages)
        and (not remedy.channels or (spot.group is not None and spot.group in remedy.channels))
    )


def fit_score(remedy: Remedy, spot: Spot) -> int:
    """Higher is more specific to this step: the main pain class, then the sector, the channel, the stage."""
    main = 8 if spot.classes and spot.classes[0] in remedy.classes else 0
    later = 2 * sum(1 for c in spot.classes[1:] if c in remedy.classes)
    return main + later + (4 if remedy.sectors else 0) + (2 if remedy.channels else 0) + (1 if remedy.stages else 0)


@lru_cache(maxsize=4096)
def stems(text: str) -> frozenset[str]:
    """Rough word stems, to see which remedy speaks about what the owner wrote: the first five letters of
    words of five letters or more ("reviews" and "review", "factuur" and "facturen"; "asks" says nothing)."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    return frozenset(w[:5] for w in re.findall(r"[a-z]{5,}", folded))


def overlap(remedy: Remedy, spot: Spot) -> int:
    words = spot.tp.pain.text if spot.tp.pain else spot.tp.name
    return len(stems(words) & stems(remedy.do))  # what it says to do; the why speaks in general words


def pick(ctx: Context, spot: Spot, used: set[str], count: int) -> list[Remedy]:
    """Up to `count` remedies for `spot`, none already given elsewhere in this report, covering its classes.

    Most specific first (the main pain class, the sector, the owner's own words, the channel, the stage),
    then the order of the file."""
    library = remedies(ctx.lang)
    candidates = [r for r in library if r.id not in used and fits(r, spot, ctx.sector)]
    order = {r.id: n for n, r in enumerate(library)}
    # a remedy that speaks of what the owner wrote ("receptie", "factuur") outweighs a channel or stage match
    candidates.sort(key=lambda r: (-(fit_score(r, spot) + 3 * min(2, overlap(r, spot))), order[r.id]))
    chosen: list[Remedy] = []
    # first the best remedy per class, in the order the classes were named, then the best of the rest
    for cls in spot.classes:
        best = next((r for r in candidates if cls in r.classes and r not in chosen), None)
        if best is not None and len(chosen) < count:
            chosen.append(best)
    for r in candidates:  # a second option always; more only where made for this sector or channel
        if len(chosen) >= count:
            break
        if r not in chosen and (len(chosen) < 2 or r.sectors or r.channels):
            chosen.append(r)
    used.update(r.id for r in chosen)
    return chosen


def as_action(ctx: Context, remedy: Remedy, spot: Spot) -> Action:
    return Action(do=ctx.fill(remedy.do, spot), why=ctx.fill(remedy.why, spot), effort=remedy.effort, cost=cost_text(ctx, remedy), ref=remedy.id)
