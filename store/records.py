"""Plain records the store reads and writes: no SQLAlchemy, no domain objects.

The application layer translates them to and from the domain; the store knows tables only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class OwnerKey:
    """Who is talking: Telegram uses workspace '', Slack the team id, the terminal 'local'."""

    channel: str
    workspace: str
    user_id: str


class StoreUnavailable(RuntimeError):
    """The database cannot be reached or written; nothing of the last event was saved."""


class JourneyNotFound(LookupError):
    """No such journey for this owner (or it belongs to someone else)."""


class ShareDenied(PermissionError):
    """The caller may not share, read or change this journey."""


@dataclass(frozen=True)
class JourneyRecord:
    id: int
    answers: dict[str, Any]
    complete: bool
    lang: str
    title: str


@dataclass(frozen=True)
class Loaded:
    """What one turn starts from: the owner's conversation and current journey, read in one query."""

    owner_id: int
    conversation_id: int
    version: int
    lang: str | None
    state: dict[str, Any]
    journey_id: int | None  # the conversation's pointer, even when the journey itself is gone
    journey: JourneyRecord | None
    duplicate: bool = False  # the dedup key was seen before: nothing must be applied


@dataclass(frozen=True)
class JourneySummary:
    id: int
    title: str
    answered: int
    total: int


@dataclass(frozen=True)
class TodoRecord:
    id: int
    key: str
    kind: str  # improvement or wow
    title: str
    status: str  # open, planned, done, dropped


@dataclass(frozen=True)
class HomeJourney:
    """One journey as the owner's home screen lists it (Slack's App Home tab)."""

    id: int
    title: str
    answered: int
    total: int
    complete: bool
    review_due: date | None  # the next review reminder's date; None when none is scheduled
    todos: list[TodoRecord]  # the active to-dos still open or planned, oldest first
    rated: int = 0  # touchpoints with a feeling: the map picture has something to show


@dataclass(frozen=True)
class VersionRecord:
    number: int
    created: datetime
    answers: dict[str, Any]
    todos: dict[str, str]


@dataclass(frozen=True)
class LogEntry:
    key: str
    raw: str
    value: Any
    status: str


@dataclass(frozen=True)
class TouchpointRow:
    name: str
    channel: str | None = None
    feeling: int | None = None
    pain: str | None = None
    team: str | None = None


@dataclass(frozen=True)
class StageRow:
    slug: str
    name: str
    delights: str | None
    touchpoints: list[TouchpointRow]


@dataclass
class RowChanges:
    """The relational read model of a journey, only where an answer changed it."""

    journey: dict[str, Any] = field(default_factory=dict)  # columns of the journeys row (goal, process, ...)
    business: tuple[str, str | None] | None = None  # (name, sector) when either changed
    persona: dict[str, Any] = field(default_factory=dict)  # columns of the personas row
    stages: list[StageRow] | None = None  # every stage and touchpoint, when the shape changed
    touchpoints: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)  # (stage slug, position, columns)
    delights: list[tuple[str, str | None]] = field(default_factory=list)  # (stage slug, text)


@dataclass
class JourneyChanges:
    """What a turn changed in one journey: only these keys are written."""

    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> {"v": ..., "s": ...}
    log: list[LogEntry] = field(default_factory=list)
    complete: bool | None = None
    title: str | None = None
    lang: str | None = None
    progress: tuple[int, int] | None = None  # (answered, total)
    rows: RowChanges = field(default_factory=RowChanges)


@dataclass(frozen=True)
class ConversationWrite:
    lang: str | None
    state: dict[str, Any]
    journey_id: int | None


@dataclass(frozen=True)
class JourneyData:
    """Everything a summary or an export reads about one journey."""

    journey: JourneyRecord
    conversation_lang: str | None
    versions: list[VersionRecord]  # the newest two, newest first
    todos: list[TodoRecord]
    survey: list[dict[str, Any]]


@dataclass(frozen=True)
class DueReminder:
    id: int
    channel: str
    workspace: str
    user_id: str
    journey_id: int
    lang: str
    title: str
    due_at: datetime  # the due time it was claimed from: a release puts it back


@dataclass(frozen=True)
class ShareRecord:
    id: int
    journey_id: int
    platform: str
    workspace: str
    channel_id: str
    owner_user_id: str
    title: str
    lang: str


@dataclass(frozen=True)
class ContributionRecord:
    user_id: str
    stage_slug: str
    stage_name: str
    touchpoint: str
    added: bool
    score: int | None
