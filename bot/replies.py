"""Platform-neutral replies: what the engine wants said, rendered by each adapter."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ReplyType = Literal[
    "question",  # a step to answer; kind/choices/progress say how
    "info",  # acknowledgement, status, help, list of journeys
    "error",  # the last input was not accepted; nothing was stored
    "summary",  # the adapter asks the service for the report of `journey_id`
    "export",  # the adapter asks the service for the markdown export of `journey_id`
    "done",  # the interview is complete
    "map",  # every stage is rated: the adapter shows the emotion curve of `journey_id`
    "forgotten",  # everything of the owner was deleted
    "survey_link",  # the adapter asks the service for the survey link of `journey_id` (data: renew / close)
]


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class Progress:
    section: str  # "intro", "persona", "stages" or "stage"
    stage_index: int  # 1-based, 0 outside the stage part
    stage_count: int
    stage_name: str
    answered: int  # steps already answered in the plan
    total: int  # steps in the plan as it stands now

    @property
    def left(self) -> int:
        return max(self.total - self.answered, 0)


@dataclass(frozen=True)
class Reply:
    type: ReplyType
    text: str
    step: str | None = None
    kind: str | None = None
    choices: tuple[Option, ...] = ()
    progress: Progress | None = None
    journey_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    lang: str = "en"  # the owner's language when the reply was made, for the adapter's own texts
    receipt: int | None = None  # set by the application layer: the outbox row to mark sent once shown

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "step": self.step,
            "kind": self.kind,
            "text": self.text,
            "choices": [{"value": o.value, "label": o.label} for o in self.choices],
            "progress": None,
        }
        if self.progress is not None:
            p = self.progress
            out["progress"] = {
                "section": p.section,
                "stage": p.stage_index,
                "stages": p.stage_count,
                "stage_name": p.stage_name,
                "answered": p.answered,
                "total": p.total,
                "left": p.left,
            }
        if self.journey_id is not None:
            out["journey_id"] = self.journey_id
        if self.data:
            out["data"] = self.data
        return out
