"""When a journey is reviewed again: the rhythm the owner chose at the end of the interview."""
from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from typing import Any, Mapping, TypeVar

RHYTHM_MONTHS = {"monthly": 1, "quarterly": 3, "half_year": 6}
RHYTHM_DAYS = {"monthly": 30, "quarterly": 91, "half_year": 182}  # how far a sent reminder moves the next one
DEFAULT_RHYTHM = "monthly"
When = TypeVar("When", date, datetime)


def rhythm_of(answers: Mapping[str, Any]) -> str:
    entry = answers.get("journey.review") or {}
    return str(entry.get("v")) if entry.get("s") == "ok" and entry.get("v") else DEFAULT_RHYTHM


def add_months(moment: When, months: int) -> When:
    """The same day `months` later, or the month's last day when it is shorter (31 Jan + 1 = 28/29 Feb)."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def next_review(answers: Mapping[str, Any], now: datetime) -> datetime | None:
    """The next review moment, or None when the owner chose never to be reminded."""
    months = RHYTHM_MONTHS.get(rhythm_of(answers))
    return add_months(now, months) if months is not None else None


def review_date(answers: Mapping[str, Any], today: date) -> date | None:
    """The date the summary names for the next review: the same rhythm as the reminder."""
    months = RHYTHM_MONTHS.get(rhythm_of(answers))
    return add_months(today, months) if months is not None else None


def rhythm_steps() -> dict[str, timedelta]:
    """How far a sent reminder moves the next one, per rhythm (the first is the default)."""
    return {DEFAULT_RHYTHM: timedelta(days=RHYTHM_DAYS[DEFAULT_RHYTHM]), **{r: timedelta(days=d) for r, d in RHYTHM_DAYS.items()}}
