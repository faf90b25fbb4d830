"""Words the engine and its helpers share: special choice values, step keys, answer checks."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import prompts

DONT_KNOW = "__dont_know__"
DONE = "__done__"
SKIP = "__skip__"
KEEP = "__keep__"
LANGUAGE_STEP = "meta.language"
SURVEY_STEP = "meta.survey"
REVIEW_PREFIX = "review:"
FORGET_STEP = "meta.forget"
SHOW = "_show"  # internal: show the current question, used after switching journeys
TASK_STATUSES = ("open", "planned", "done", "dropped")
INVALID = object()  # what a parse returns after it told the owner the answer was not accepted


@dataclass(frozen=True)
class TodoRef:
    id: int
    kind: str  # improvement or wow
    title: str
    status: str  # open, planned, done, dropped


class Invalid(Exception):
    """An answer the step cannot take; `key` names the message under `errors` in messages.yaml."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def matches_word(text: str, lists_key: str) -> bool:
    """Whether `text` is one of the words listed under `lists_key` in either language's messages."""
    needle = " ".join(text.strip().lower().replace("’", "'").split())
    return any(needle in prompts.load(lang, "messages")[lists_key] for lang in prompts.LANGUAGES)
