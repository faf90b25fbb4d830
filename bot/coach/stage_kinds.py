"""The kind of a stage (awareness ... advocacy), read from the owner's stage name, else from its position."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

import prompts
from bot.journey import StageView
from bot.knowledge import STAGE_KINDS
from bot.vocabulary import fold



@lru_cache(maxsize=None)
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    words: dict[str, set[str]] = {kind: set() for kind in STAGE_KINDS}
    for lang in prompts.LANGUAGES:
        for kind, cues in prompts.load(lang, "stage_kinds").items():
            words[kind].update(fold(str(c)) for c in cues)
    return tuple(
        (kind, re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in sorted(words[kind], key=len, reverse=True)) + ")"))
        for kind in STAGE_KINDS
    )


def kind_of_name(name: str) -> str | None:
    """The kind named in `name`, the earliest match in the name winning ("Ophalen en proeven": delivery)."""
    folded = fold(name)
    found = [(m.start(), STAGE_KINDS.index(kind), kind) for kind, pattern in _patterns() if (m := pattern.search(folded))]
    return min(found)[2] if found else None


def kind_by_position(index: int, count: int) -> str:
    if count <= 1:
        return STAGE_KINDS[0]
    return STAGE_KINDS[round((index - 1) * (len(STAGE_KINDS) - 1) / (count - 1))]


def stage_kind(stage: StageView, stages: Sequence[StageView]) -> str:
    return kind_of_name(stage.name) or kind_by_position(stage.index, len(stages))
