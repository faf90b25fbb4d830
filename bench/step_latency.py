"""Step latency: one answer in, the next question out (engine + store, one transaction).

    .venv/bin/python -m bench.step_latency [--quick]

1 conversation: the whole B2B interview typed line after line, three times (every kind of step).
100 and 1,000 conversations: that many owners in the middle of their interview at the same
time, each answering the next question after a think time drawn from an exponential
distribution (mean THINK seconds, a quick typist), handled like the Telegram adapter does:
`asyncio.to_thread` with 16 updates in flight at most. The latency includes waiting for a
thread and for the database's locks. A last column gives the saturated throughput: 16
threads answering as fast as they can, for as long as the conversations last. Every step carries
a dedup key, as every adapter sends one (Telegram's update id, Slack's event id).
"""
from __future__ import annotations

import asyncio
import itertools
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from app import Journeys, OwnerKey
from bench.common import database, percentile
from bot.events import Start, parse_input
from devkit.scripts import B2B_EN
from store.db import database_url
from store.repository import Store

THINK = 5.0
WORKERS = 16


@dataclass
class Row:
    db: str
    conversations: int
    steps: int
    p50: float
    p99: float
    offered: float  # steps per second offered
    saturated: float | None = None  # steps per second with 16 threads flat out
    note: str = ""


_keys = itertools.count()


def _service(url: str) -> Journeys:
    return Journeys(Store.open(database_url({"DATABASE_URL": url}), pool_size=WORKERS))


def _handle(journeys: Journeys, owner: OwnerKey, event):  # type: ignore[no-untyped-def]
    """One step as an adapter sends it: with a dedup key of its own."""
    return journeys.handle(owner, event, dedup_key=f"bench:{next(_keys)}")


def _event(line: str):
    return parse_input(line)


def one_conversation(url: str, rounds: int = 3) -> Row:
    service = _service(url)
    samples: list[float] = []
    for n in range(rounds):
        owner = OwnerKey("bench", "one", f"u{n}")
        _handle(service, owner, Start(lang_hint="en"))
        for line in B2B_EN[1:]:
            started = time.perf_counter()
            replies = _handle(service, owner, _event(line))
            samples.append(time.perf_counter() - started)
            assert not any(r.type == "error" for r in replies), (line, replies)  # the script fits the interview
        assert "done" in [r.type for r in replies], "the B2B interview did not finish"
    service.close()
    return Row("", 1, len(samples), percentile(samples, 50), percentile(samples, 99), 0.0)


def _open(service: Journeys, owners: list[OwnerKey]) -> None:
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda o: _handle(service, o, Start(lang_hint="en")), owners))


def many_conversations(url: str, count: int, duration: float, seed: int = 1) -> Row:
    service = _service(url)
    owners = [OwnerKey("bench", f"n{count}", f"u{i}") for i in range(count)]
    _open(service, owners)
    rng = random.Random(seed)
    positions = {o: 1 for o in owners}
    samples: list[float] = []

    async def owner_loop(owner: OwnerKey, stop_at: float) -> None:
        await asyncio.sleep(rng.uniform(0, THINK))  # owners did not all start at the same moment
        while time.perf_counter() < stop_at:
            line = B2B_EN[positions[owner]]
            positions[owner] = positions[owner] + 1 if positions[owner] + 1 < len(B2B_EN) else 1
            event = _event(line) if positions[owner] != 1 else parse_input("/new")
            started = time.perf_counter()
            await asyncio.to_thread(_handle, service, owner, event)
            samples.append(time.perf_counter() - started)
            await asyncio.sleep(rng.expovariate(1 / THINK))

    async def run() -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(WORKERS))
        stop_at = time.perf_counter() + duration
        await asyncio.gather(*(owner_loop(o, stop_at) for o in owners))

    asyncio.run(run())
    saturated = _saturated(service, owners, min(duration, 5.0))
    service.close()
    return Row("", count, len(samples), percentile(samples, 50), percentile(samples, 99), count / THINK, saturated)


def _saturated(service: Journeys, owners: list[OwnerKey], duration: float) -> float:
    """Steps per second with WORKERS threads answering flat out, each for its own owners."""
    stop_at = time.perf_counter() + duration
    done = [0]
    lock = threading.Lock()
    position = {o: 1 for o in owners}

    def worker(mine: list[OwnerKey]) -> None:
        i = 0
        while time.perf_counter() < stop_at and mine:
            owner = mine[i % len(mine)]
            i += 1
            line = B2B_EN[position[owner]]
            position[owner] = position[owner] + 1 if position[owner] + 1 < len(B2B_EN) else 1
            _handle(service, owner, _event(line) if position[owner] != 1 else parse_input("/new"))
            with lock:
                done[0] += 1

    started = time.perf_counter()
    groups = [owners[i::WORKERS] for i in range(WORKERS)]
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(worker, groups))
    return done[0] / (time.perf_counter() - started)


def run(kinds: list[str], counts: list[int], duration: float) -> list[Row]:
    rows: list[Row] = []
    for kind in kinds:
        for count in counts:
            with database(kind) as url:
                row = one_conversation(url) if count == 1 else many_conversations(url, count, duration)
            row.db = kind
            rows.append(row)
            print(f"  step latency {kind} x{count}: p50 {row.p50 * 1000:.1f} ms, p99 {row.p99 * 1000:.1f} ms ({row.steps} steps)", flush=True)
    return rows


if __name__ == "__main__":
    for r in run(["sqlite"], [1, 100], 10):
        print(r)
