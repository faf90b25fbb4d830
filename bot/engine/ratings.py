"""The ratings question: every touchpoint of a stage rated 1..5 in one turn.

Typed: "4 3 2", "4,3,2", "4 3 2 - the queue on Saturday" (the text after the numbers is what goes
wrong in the stage), or "2=1 3=4" to set single touchpoints. Tapped: `rate:<n>=<score>` per
touchpoint, then Done. Partial ratings wait in `State.selection` as "n=score".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot.vocabulary import Invalid

RATE_PREFIX = "rate:"
_PAIR = re.compile(r"^\s*(\d+)\s*[=:]\s*(\S+)\s*$")
_SPLIT = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class Rated:
    scores: dict[int, int]  # touchpoint index (1-based) -> 1..5
    pain: str  # what goes wrong, typed after the numbers ('' for none)


def pending(selection: list[str]) -> dict[int, int]:
    scores: dict[int, int] = {}
    for item in selection:
        index, _, score = item.partition("=")
        if index.isdigit() and score.isdigit():
            scores[int(index)] = int(score)
    return scores


def as_selection(scores: dict[int, int]) -> list[str]:
    return [f"{index}={score}" for index, score in sorted(scores.items())]


def _score(token: str) -> int:
    if not token.isdigit() or not 1 <= int(token) <= 5:
        raise Invalid("range", value=token)
    return int(token)


def parse_typed(text: str, count: int, before: dict[int, int]) -> Rated:
    """Scores from a typed line; `before` holds the ratings given earlier (kept where not replaced)."""
    head, dash, tail = text.partition(" - ")
    if not dash:
        head, tail = text, ""
        match = re.match(r"^([\d\s,;=:]+?)(?:\s+([^\d\s].*))?$", text.strip())
        if match and match.group(2):
            head, tail = match.group(1), match.group(2)
    tokens = [t for t in _SPLIT.split(head.strip()) if t]
    if not tokens:
        raise Invalid("empty", count=count)
    scores = dict(before)
    if all("=" in t or ":" in t for t in tokens):
        for token in tokens:
            pair = _PAIR.match(token)
            if pair is None:
                raise Invalid("pair", value=token)
            index = int(pair.group(1))
            if not 1 <= index <= count:
                raise Invalid("index", value=index, count=count)
            scores[index] = _score(pair.group(2))
        return Rated(scores=scores, pain=tail.strip())
    values = [_score(t) for t in tokens]
    if len(values) > count:
        raise Invalid("count", given=len(values), count=count)
    scores.update({index: value for index, value in enumerate(values, start=1)})
    return Rated(scores=scores, pain=tail.strip())


def parse_tap(value: str, count: int) -> tuple[int, int]:
    pair = _PAIR.match(value[len(RATE_PREFIX):])
    if pair is None:
        raise Invalid("pair", value=value)
    index = int(pair.group(1))
    if not 1 <= index <= count:
        raise Invalid("index", value=index, count=count)
    return index, _score(pair.group(2))
