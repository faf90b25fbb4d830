"""What the caller must do besides storing the state and the logged answers, in the order given."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Union


@dataclass(frozen=True)
class NewJourney:
    """/new: the state's journey was reset; the next answer creates a journey."""


@dataclass(frozen=True)
class OpenJourney:
    """/open N: load that journey and show its current question."""

    journey_id: int


@dataclass(frozen=True)
class ForgetOwner:
    """/forget was confirmed: delete everything of the owner."""


@dataclass(frozen=True)
class JourneyCompleted:
    """The interview reached its end: save version 1 if there is none, schedule the review."""


@dataclass(frozen=True)
class SaveVersion:
    """A review finished: save a new version, reschedule the review."""


@dataclass(frozen=True)
class SetTodoStatus:
    todo_id: int
    status: str  # one of TASK_STATUSES


@dataclass(frozen=True)
class SurveyAnswer:
    """One customer's answers to the survey: scores by question key, and a free comment."""

    scores: Mapping[str, int]
    comment: str


@dataclass(frozen=True)
class AddSurveyAnswers:
    rows: tuple[SurveyAnswer, ...]
    key: str | None = None  # what identifies the import (bot.survey.import_key): stored with it, so it is taken once


@dataclass(frozen=True)
class ReadDescription:
    """A stage told in the owner's own words waits for a model to read it (the context says one is
    configured): after the turn is stored, read `text` and send the engine a `DescriptionRead` for `step`."""

    step: str
    stage: str  # the stage's name, as the owner gave it
    text: str
    lang: str


Effect = Union[NewJourney, OpenJourney, ForgetOwner, JourneyCompleted, SaveVersion, SetTodoStatus, AddSurveyAnswers, ReadDescription]
