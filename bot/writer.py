"""The one small interface behind which a summary gets written: the offline coach or an LLM."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Callable, Protocol

from bot.coach import build_report
from bot.journey import JourneyView
from bot.report import Report


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Written:
    report: Report
    usage: Usage | None = None
    calls: int = 0
    fallback: bool = False


class SummaryWriter(Protocol):
    name: str  # "coach" or "llm:<model>"

    def cache_key(self, journey: JourneyView) -> str: ...

    async def write(self, journey: JourneyView) -> Written: ...


def answers_hash(journey: JourneyView, *extra: str) -> str:
    payload = json.dumps({"lang": journey.lang, "answers": journey.answers, "extra": extra}, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class CoachWriter:
    """The offline coach behind the writer interface. Cheap, so it is never cached."""

    name = "coach"

    def __init__(self, today: Callable[[], date] = date.today, currency: str = "EUR") -> None:
        self.today = today
        self.currency = currency

    def cache_key(self, journey: JourneyView) -> str:
        return answers_hash(journey, "coach", self.today().isoformat(), self.currency)

    def report(self, journey: JourneyView) -> Report:
        return build_report(journey, self.today(), self.currency)

    async def write(self, journey: JourneyView) -> Written:
        return Written(report=self.report(journey))
