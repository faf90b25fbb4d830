"""Summary statistics for `journeybot stats` (handlers/cli.py): calls, tokens and fallbacks, read from the summaries table."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, case, func, select
from sqlalchemy.orm import Session

from store.models import Summary


@dataclass(frozen=True)
class GeneratorStats:
    """One writer (`coach`, `llm:<model>`; fallbacks are counted under the writer that fell back)."""

    generator: str
    summaries: int
    calls: int
    prompt_tokens: int
    completion_tokens: int
    fallbacks: int

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class SummaryStats:
    rows: list[GeneratorStats] = field(default_factory=list)
    first: datetime | None = None
    last: datetime | None = None

    def total(self) -> GeneratorStats:
        return GeneratorStats(
            generator="total",
            summaries=sum(r.summaries for r in self.rows),
            calls=sum(r.calls for r in self.rows),
            prompt_tokens=sum(r.prompt_tokens for r in self.rows),
            completion_tokens=sum(r.completion_tokens for r in self.rows),
            fallbacks=sum(r.fallbacks for r in self.rows),
        )

    def as_dict(self) -> dict[str, Any]:
        def row(r: GeneratorStats) -> dict[str, Any]:
            return {
                "generator": r.generator,
                "summaries": r.summaries,
                "calls": r.calls,
                "prompt_tokens": r.prompt_tokens,
                "completion_tokens": r.completion_tokens,
                "fallbacks": r.fallbacks,
            }

        return {
            "generators": [row(r) for r in self.rows],
            "total": row(self.total()),
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
        }


def _base_generator(name: str) -> str:
    return name[: -len(":fallback")] if name.endswith(":fallback") else name


def summary_stats(source: Engine | Session, *, since: datetime | None = None) -> SummaryStats:
    """Counts per writer from the summaries table (each row is one written summary; cache hits add no row)."""
    query = select(
        Summary.generator,
        func.count(Summary.id),
        func.coalesce(func.sum(Summary.calls), 0),
        func.coalesce(func.sum(Summary.prompt_tokens), 0),
        func.coalesce(func.sum(Summary.completion_tokens), 0),
        func.coalesce(func.sum(case((Summary.fallback.is_(True), 1), else_=0)), 0),
        func.min(Summary.created_at),
        func.max(Summary.created_at),
    ).group_by(Summary.generator)
    if since is not None:
        query = query.where(Summary.created_at >= since)

    if isinstance(source, Session):
        result = source.execute(query).all()
    else:
        with Session(source) as session:
            result = session.execute(query).all()

    merged: dict[str, list[int]] = {}
    first: datetime | None = None
    last: datetime | None = None
    for generator, count, calls, prompt, completion, fallbacks, lo, hi in result:
        totals = merged.setdefault(_base_generator(generator), [0, 0, 0, 0, 0])
        for i, value in enumerate((count, calls, prompt, completion, fallbacks)):
            totals[i] += int(value or 0)
        first = lo if first is None or (lo is not None and lo < first) else first
        last = hi if last is None or (hi is not None and hi > last) else last
    rows = [GeneratorStats(name, *values) for name, values in sorted(merged.items())]
    return SummaryStats(rows=rows, first=first, last=last)
