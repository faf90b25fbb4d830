"""When a journey is reviewed again: the rhythm the owner chose at the end of the interview."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping

RHYTHM_DAYS = {"monthly": 30, "quarterly": 91, "half_year": 182}
DEFAULT_RHYTHM = "monthly"


def rhythm_of(answers: Mapping[str, Any]) -> str:
    entry = answers.get("journey.review") or {}
    return str(entry.get("v")) if entry.get("s") == "ok" and entry.get("v") else DEFAULT_RHYTHM


def next_review(answers: Mapping[str, Any], now: datetime) -> datetime | None:
    """The next review moment, or None when the owner chose never to be reminded."""
    days = RHYTHM_DAYS.get(rhythm_of(answers))
    return now + timedelta(days=days) if days is not None else None


def rhythm_steps() -> dict[str, timedelta]:
    """How far a sent reminder moves the next one, per rhythm (the first is the default)."""
    return {DEFAULT_RHYTHM: timedelta(days=RHYTHM_DAYS[DEFAULT_RHYTHM]), **{r: timedelta(days=d) for r, d in RHYTHM_DAYS.items()}}
