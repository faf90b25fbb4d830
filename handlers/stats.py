"""`journeybot stats`: calls, tokens and fallbacks per summary writer, as a plain text table."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app import SummaryStats


def format_stats(stats: "SummaryStats", labels: dict[str, str] | None = None) -> str:
    """A plain text table (labels may translate the column headers: generator, summaries, calls,
    prompt_tokens, completion_tokens, fallbacks, total, empty)."""
    labels = labels or {}
    keys = ("generator", "summaries", "calls", "prompt_tokens", "completion_tokens", "fallbacks")
    head = [labels.get(k, k.replace("_", " ")) for k in keys]
    if not stats.rows:
        return labels.get("empty", "No summaries written yet.")
    body = [
        [r.generator if r.generator != "total" else labels.get("total", "total"), str(r.summaries), str(r.calls), str(r.prompt_tokens), str(r.completion_tokens), str(r.fallbacks)]
        for r in [*stats.rows, stats.total()]
    ]
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(keys))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    out = [line(head), "  ".join("-" * w for w in widths)]
    out += [line(row) for row in body[:-1]]
    out += ["  ".join("-" * w for w in widths), line(body[-1])]
    return "\n".join(out)

