"""PostgreSQL round trips per step, and the step's p50 as a multiple of a bare transaction.

    .venv/bin/python -m bench.roundtrips

The whole B2B interview (devkit/scripts.py B2B_EN) typed through `app.Journeys` on a fresh
PostgreSQL database, every step with a dedup key as the adapters send it. Round trips are counted
with SQLAlchemy's engine events: every BEGIN, every cursor execute (an executemany counts once)
and every COMMIT / ROLLBACK. The baseline is a bare `BEGIN; INSERT; COMMIT` on a one-column
table, through the same engine and driver, timed right after each step (interleaved, so both see
the same machine).
"""
from __future__ import annotations

import statistics
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import event, text

from app import Journeys, OwnerKey
from bench.common import database
from bot.events import Choice, Start, parse_input
from devkit.scripts import B2B_EN
from store.repository import Store


@dataclass
class RoundTrips:
    steps: int
    per_step: float
    max_per_step: int
    kinds: dict[str, float]  # mean per step: begin, execute, commit, rollback
    step_p50: float
    bare_p50: float

    @property
    def ratio(self) -> float:
        return self.step_p50 / self.bare_p50


class Counter:
    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.counts = {"begin": 0, "execute": 0, "commit": 0, "rollback": 0}
        event.listen(engine, "begin", lambda conn: self._add("begin"))
        event.listen(engine, "commit", lambda conn: self._add("commit"))
        event.listen(engine, "rollback", lambda conn: self._add("rollback"))
        event.listen(engine, "before_cursor_execute", lambda *a: self._add("execute"))

    def _add(self, kind: str) -> None:
        self.counts[kind] += 1

    def total(self) -> int:
        return sum(self.counts.values())

    def snapshot(self) -> dict[str, int]:
        return dict(self.counts)


def interview(journeys: Journeys, counter: Counter, owner: OwnerKey, bare: list[float] | None = None) -> tuple[list[int], dict[str, int], list[float]]:
    """One interview, a dedup key per step; with `bare`, one bare transaction timed after each step."""
    per_step: list[int] = []
    times: list[float] = []
    kinds = {k: 0 for k in counter.counts}
    last_step = None
    for n, line in enumerate(B2B_EN):
        ev = Start(lang_hint="en") if n == 0 else parse_input(line)
        if last_step == "meta.language" and line in ("nl", "en"):
            ev = Choice(line, "meta.language")
        before = counter.snapshot()
        started = time.perf_counter()
        replies = journeys.handle(owner, ev, dedup_key=f"bench:{uuid.uuid4().hex}", lang_hint="en")
        times.append(time.perf_counter() - started)
        after = counter.snapshot()
        per_step.append(sum(after[k] - before[k] for k in after))
        for k in after:
            kinds[k] += after[k] - before[k]
        last_step = replies[-1].step if replies else None
        assert not any(r.type == "error" for r in replies), (line, replies)  # the script fits the interview
        if bare is not None:
            bare += bare_transactions(journeys.store, 1)
    assert "done" in [r.type for r in replies], "the B2B interview did not finish"
    return per_step, kinds, times


def bare_transactions(store: Store, runs: int) -> list[float]:
    """`BEGIN; INSERT; COMMIT` on a one-column table, `runs` times."""
    times: list[float] = []
    for i in range(runs):
        started = time.perf_counter()
        with store.engine.begin() as conn:
            conn.execute(text("INSERT INTO bench_bare (x) VALUES (:x)"), {"x": i})
        times.append(time.perf_counter() - started)
    return times


def run(rounds: int = 3) -> RoundTrips:
    with database("postgresql") as url:
        store = Store.open(url, pool_size=4)
        journeys = Journeys(store)
        counter = Counter(store.engine)
        with store.engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_bare (x integer)"))
        # warm-up: the pool's first connection, the engine's compiled-statement cache
        interview(journeys, counter, OwnerKey("bench", "warm", "up"), [])
        steps: list[int] = []
        kinds = {"begin": 0, "execute": 0, "commit": 0, "rollback": 0}
        step_times: list[float] = []
        bare: list[float] = []
        for n in range(rounds):
            counts, by_kind, times = interview(journeys, counter, OwnerKey("bench", "rt", f"u{n}"), bare)
            steps += counts
            step_times += times
            for k, v in by_kind.items():
                kinds[k] += v
        journeys.close()
    result = RoundTrips(
        steps=len(steps),
        per_step=sum(steps) / len(steps),
        max_per_step=max(steps),
        kinds={k: v / len(steps) for k, v in kinds.items()},
        step_p50=statistics.median(step_times),
        bare_p50=statistics.median(bare),
    )
    print(f"  postgresql round trips: {result.per_step:.2f} per step (max {result.max_per_step}; "
          + ", ".join(f"{k} {v:.2f}" for k, v in result.kinds.items())
          + f"); step p50 {result.step_p50 * 1000:.2f} ms = {result.ratio:.1f}x bare BEGIN; INSERT; COMMIT "
          f"({result.bare_p50 * 1000:.2f} ms)", flush=True)
    return result


if __name__ == "__main__":
    run()
