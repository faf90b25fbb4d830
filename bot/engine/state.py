"""What the engine reads and returns: the conversation state, the context of a turn, its outcome."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from bot.engine.effects import Effect
from bot.flow import Flow, default_flow
from bot.replies import Reply
from bot.vocabulary import TodoRef


@dataclass
class State:
    """What the conversation remembers between events. `answers` belong to the current journey."""

    lang: str | None = None
    journey_id: int | None = None
    cursor: str | None = None
    pending: str | None = None  # a question outside the flow is open: "language", "forget", "review" or "survey"
    paused: bool = False
    complete: bool = False
    selection: list[str] = field(default_factory=list)
    followup: str | None = None  # the step whose vague answer already got its one follow-up
    review: list[str] = field(default_factory=list)  # what a running review still has to ask
    version_due: bool = False  # a review added questions: save the new version once they are answered
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    confirm: dict[str, Any] | None = None  # a typed choice close to an option, awaiting "did you mean …?" (engine/confirm.py)
    resume: str | None = None  # /back or /edit moved away from this step: the interview returns to it
    last_answer: dict[str, str] | None = None  # {"step": key, "msg": platform message id} of the last typed answer

    def conversation_fields(self) -> dict[str, Any]:
        return {
            "lang": self.lang,
            "cursor": self.cursor,
            "pending": self.pending,
            "paused": self.paused,
            "complete": self.complete,
            "selection": list(self.selection),
            "followup": self.followup,
            "review": list(self.review),
            "version_due": self.version_due,
            "confirm": self.confirm,
            "resume": self.resume,
            "last_answer": dict(self.last_answer) if self.last_answer else None,
        }


@dataclass(frozen=True)
class JourneyRef:
    id: int
    title: str
    answered: int
    total: int


@dataclass(frozen=True)
class Logged:
    """One answer for the append-only log."""

    key: str
    raw: str
    value: Any
    status: str  # ok, unknown, skipped


@dataclass
class Context:
    """What the caller knows besides the state; `needs()` says when the lists must be filled."""

    flow: Flow = field(default_factory=default_flow)
    lang_hint: str | None = None  # the platform's idea of the owner's language (Telegram language_code)
    journeys: Sequence[JourneyRef] = ()
    todos: Sequence[TodoRef] = ()
    imports: frozenset[str] = frozenset()  # keys of the survey imports already stored for the journey
    reads_descriptions: bool = False  # a model reads a stage told in own words (effect ReadDescription)


@dataclass
class Outcome:
    state: State
    replies: list[Reply] = field(default_factory=list)
    logged: list[Logged] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    progress: tuple[int, int] | None = None  # (answered, total) of the plan, set whenever the answers changed
