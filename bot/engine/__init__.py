"""The interview engine: (state, event, context) -> Outcome (new state, neutral replies, what to store).

Pure: no I/O, no clock, no platform. The application layer loads what `needs()` names, stores the
outcome in one transaction and applies its effects; adapters render the replies.
"""
from __future__ import annotations

from dataclasses import replace

from bot.engine.commands import needs
from bot.engine import confirm  # noqa: F401  (registers the near-choice confirmation)
from bot.engine import describe  # noqa: F401  (registers the confirmation of a stage told in own words)
from bot.engine import heard  # noqa: F401  (registers the confirmation of a voice note's transcript)
from bot.engine.run import run
from bot.engine.state import Context, JourneyRef, Logged, Outcome, State
from bot.engine.turn import Turn
from bot.events import Event
from bot.journey import title_of
from bot.vocabulary import (
    DONE,
    DONT_KNOW,
    FORGET_STEP,
    INVALID,
    KEEP,
    LANGUAGE_STEP,
    REVIEW_PREFIX,
    SHOW,
    SKIP,
    SURVEY_STEP,
    TASK_STATUSES,
    Invalid,
    TodoRef,
    matches_word,
)

__all__ = [
    "handle", "needs", "State", "Context", "Outcome", "JourneyRef", "Logged", "title_of",
    "DONE", "DONT_KNOW", "KEEP", "SKIP", "SHOW", "LANGUAGE_STEP", "FORGET_STEP", "SURVEY_STEP", "REVIEW_PREFIX",
    "TASK_STATUSES", "INVALID", "Invalid", "TodoRef", "matches_word",
]


def handle(state: State, event: Event, ctx: Context | None = None) -> Outcome:
    """The outcome of `event` in `state`; `state` itself is left as it was."""
    copy = replace(state, selection=list(state.selection), answers=dict(state.answers), review=list(state.review))
    return run(Turn(copy, ctx or Context()), event)
