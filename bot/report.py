"""The report a summary writer produces: the offline coach and the LLM writer fill the same model.

bot/report_sections.py turns it into the sections every renderer shows."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Level = Literal["low", "medium", "high"]


class Action(BaseModel):
    """One concrete thing to do this month, from the remedies the coach knows (prompts/<lang>/remedies.yaml)."""

    do: str
    why: str = ""
    effort: Level
    cost: str = Field(default="", description="money and the owner's time, already in the owner's language and currency")
    ref: str = Field(default="", description="the remedy's id in prompts/<lang>/remedies.yaml, when it comes from there")


class Improvement(BaseModel):
    title: str
    why: str
    step: str = Field(description="the stage and touchpoint (or part of the interview) it applies to")
    trigger: str = Field(description="the owner's answer that led to this suggestion, quoted")
    effort: Level
    impact: Level
    actions: list[Action] = Field(default_factory=list, description="what to do, most fitting first")
    touchpoint: str = Field(default="", description="'stage › touchpoint' when the card is about one step, else empty")


class WowMoment(BaseModel):
    stage: str
    idea: str
    why: str = Field(description="why it surprises this persona")
    cost: str = Field(description="rough cost in money and time, in the owner's language and currency")
    trigger: str = Field(description="the answer it builds on, quoted")
    touchpoint: str = Field(default="", description="'stage › touchpoint' it happens at")
    ref: str = Field(default="", description="the idea's id in prompts/<lang>/wow.yaml, when it comes from there")


class MistakeCheck(BaseModel):
    number: int = Field(ge=1, le=7)
    title: str
    ok: bool
    note: str


class CalendarRow(BaseModel):
    stage: str
    channel: str
    idea: str
    when: str = Field(default="", description="the week it is planned for, as a date in the owner's language")


class CustomerCheck(BaseModel):
    stage: str  # a stage name, or empty for the overall score
    owner: float | None
    customers: float
    responses: int


class TodoLine(BaseModel):
    id: int
    kind: str
    title: str
    status: str


class TeamScore(BaseModel):
    """Teammates' feeling scores for one touchpoint, next to the owner's (team journeys)."""

    stage: str
    touchpoint: str
    owner: int | None
    scores: list[int]
    disagree: bool
    teammates: list[str] = Field(default_factory=list, description="who gave each of `scores`, in the same order (the channel's user ids), when known")


class Authorship(BaseModel):
    """Which parts of a report a language model worded; the rest, and every fact, is the coach's."""

    model: str
    summary: bool = Field(description="the story is the model's")
    improvements: list[bool] = Field(default_factory=list, description="per card, in the report's order: worded by the model")
    wow_moments: list[bool] = Field(default_factory=list)
    replaced: int = Field(default=0, description="pieces of the model's reply the coach's replaced (quotes not in the answers, steps not on the map, links, another language)")


class Report(BaseModel):
    """Everything a summary shows. Texts are already in the owner's language."""

    language: Literal["nl", "en"]
    summary: list[str] = Field(description="short paragraphs telling the journey")
    improvements: list[Improvement]
    wow_moments: list[WowMoment]
    mistakes: list[MistakeCheck]
    calendar: list[CalendarRow]
    review_date: str = Field(description="ISO date of the next review; empty when the owner chose not to review")
    missing: list[str] = Field(default_factory=list, description="questions not answered yet")
    generator: str = "coach"
    version: int = 0
    changes: list[str] = Field(default_factory=list, description="what changed since the previous version")
    customer_check: list[CustomerCheck] = Field(default_factory=list)
    todos: list[TodoLine] = Field(default_factory=list)
    team: list[TeamScore] = Field(default_factory=list)
    team_added: list[str] = Field(default_factory=list, description="touchpoints teammates added: 'stage: name'")
    notice: str = Field(default="", description="one line for the owner, e.g. why the offline coach was used")
    authors: Authorship | None = Field(default=None, description="set when a language model worded parts of the report")
