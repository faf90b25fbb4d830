"""All benchmarks, one command: `make bench` (= `.venv/bin/python -m bench`).

Prints one table and writes it to bench/results/latest.md. Never part of the test suite.

    .venv/bin/python -m bench            # everything (about four minutes)
    .venv/bin/python -m bench --quick    # shorter runs, for a smoke test

Sections: step latency (bench/step_latency.py), Telegram updates per second next to an echo bot
(bench/telegram_throughput.py), resident memory against stored journeys (bench/memory.py),
summary/export/chart time (below), and the LLM summary overhead (bench/llm_summary.py, which
also writes bench/results/llm.md).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time

from bench import common, memory, step_latency, telegram_throughput
from bench.common import ROOT, database, ms

RESULTS = ROOT / "bench" / "results" / "latest.md"


def summary_times(runs: int = 20) -> dict[str, float]:
    from handlers.service import JourneyService
    from store.db import database_url
    from store.repository import OwnerKey, Repository
    from devkit.drive import type_lines
    from devkit.scripts import BAKERY_NL

    with database("sqlite") as url:
        service = JourneyService(Repository.open(database_url({"DATABASE_URL": url})))
        owner = OwnerKey("bench", "summary", "bakery")
        type_lines(service, owner, BAKERY_NL)
        journey = service.repo.current_journey_id(owner)
        service.chart(owner, journey)  # warm-up: matplotlib import and font cache
        out: dict[str, list[float]] = {"summary": [], "export": [], "chart": [], "all": []}
        for _ in range(runs):
            t0 = time.perf_counter()
            report = asyncio.run(service.areport(owner, journey))
            t1 = time.perf_counter()
            service.export(owner, journey, report)
            t2 = time.perf_counter()
            service.chart(owner, journey)
            t3 = time.perf_counter()
            out["summary"].append(t1 - t0)
            out["export"].append(t2 - t1)
            out["chart"].append(t3 - t2)
            out["all"].append(t3 - t0)
        service.close()
    result = {k: statistics.median(v) for k, v in out.items()}
    print(f"  summary {ms(result['summary'])}, export {ms(result['export'])}, chart {ms(result['chart'])}", flush=True)
    return result


def llm_overhead() -> str:
    from bench import llm_summary

    rows = asyncio.run(llm_summary.run(5, 0.0))
    text = llm_summary.table(rows, 5, 0.0)
    common.write_results(llm_summary.RESULTS, text)
    lines = [f"| {lang} | {ms(r['coach_median'])} | {ms(r['llm_median'])} | {ms(r['overhead'])} |" for lang, r in rows.items()]  # type: ignore[index]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="journeybot benchmarks")
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    args = parser.parse_args(argv)
    os.environ.setdefault("JOURNEYBOT_LLM", "off")
    started = time.perf_counter()
    pg_note = common.pg_reachable()
    kinds = ["sqlite"] + ([] if pg_note else ["postgresql"])
    duration = 8.0 if args.quick else 20.0

    print("step latency ...", flush=True)
    steps = step_latency.run(kinds, [1, 100, 1000], duration)
    print("telegram ...", flush=True)
    tg = telegram_throughput.run(users=50, lines=10 if args.quick else 20)
    print("memory ...", flush=True)
    mem = memory.run("sqlite", (1000, 10000))
    print("summary and export ...", flush=True)
    times = summary_times(5 if args.quick else 20)
    print("llm overhead ...", flush=True)
    llm = llm_overhead()

    p99_100 = next((r.p99 for r in steps if r.db == "sqlite" and r.conversations == 100), float("nan"))
    growth = mem[-1]["maxrss_mb"] - mem[0]["maxrss_mb"]
    lines = [
        "# journeybot benchmarks",
        "",
        f"`make bench` (`.venv/bin/python -m bench{' --quick' if args.quick else ''}`) on {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}; took {time.perf_counter() - started:.0f} s.",
        "",
        "## Targets",
        "",
        "| target | measured | met |",
        "|---|---|---|",
        f"| p99 step latency < 20 ms, SQLite, 100 concurrent conversations | {ms(p99_100)} | {'yes' if p99_100 < 0.020 else 'no'} |",
        f"| >= 500 updates/s per process (Telegram adapter, fake Bot API in the same process) | {tg['journeybot']:.0f} updates/s | {'yes' if tg['journeybot'] >= 500 else 'no'} |",
        f"| journeybot / bare PTB echo bot | {tg['ratio']:.2f} ({tg['journeybot']:.0f} / {tg['echo']:.0f} updates/s) | reported |",
        f"| memory flat in stored journeys (1k -> 10k) | {mem[0]['maxrss_mb']:.0f} MB -> {mem[-1]['maxrss_mb']:.0f} MB ({growth:+.0f} MB) | {'yes' if abs(growth) < 15 else 'no'} |",
        "",
        "## Step latency (engine + store, one answer to the next question)",
        "",
        f"1 conversation: the B2B interview typed three times, sequentially. 100 / 1,000: that many owners mid-interview, "
        f"each answering after an exponential think time (mean {step_latency.THINK:.0f} s) for {duration:.0f} s, "
        f"through `asyncio.to_thread` with {step_latency.WORKERS} threads (the adapters' model); latency includes waiting "
        f"for a thread and for the database's locks. Saturated: {step_latency.WORKERS} threads answering flat out.",
        "",
        "| database | conversations | steps measured | offered load | p50 | p99 | saturated throughput |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in steps:
        offered = f"{r.offered:.0f} steps/s" if r.offered else "sequential"
        saturated = f"{r.saturated:.0f} steps/s" if r.saturated else "–"
        lines.append(f"| {r.db} | {r.conversations:,} | {r.steps:,} | {offered} | {ms(r.p50)} | {ms(r.p99)} | {saturated} |")
    if pg_note:
        lines.append(f"| postgresql | – | – | – | skipped | skipped | {pg_note} |")
    lines += [
        "",
        "## Telegram updates per second",
        "",
        f"{tg['updates']:,} updates (50 owners: /start and the interview's answers), long polling against the fake Bot API "
        "server on loopback running in the same process, SQLite. The adapter's AIORateLimiter keeps to Telegram's flood "
        "limit (30 messages/s overall); it is taken out for the first row to measure the bot's own work.",
        "",
        "| bot | updates/s |",
        "|---|---:|",
        f"| bare python-telegram-bot echo bot | {tg['echo']:.0f} |",
        f"| journeybot adapter, flood limiter off | {tg['journeybot']:.0f} |",
        f"| journeybot adapter as shipped (flood limiter on) | {tg['flood_limited']:.0f} |",
        f"| ratio journeybot / echo | {tg['ratio']:.2f} |",
        "",
        "## Resident memory",
        "",
        f"Peak RSS of a fresh process that opens {memory.OPEN:,} conversations (three answers each), then writes one "
        "summary, export and chart. State lives in the database; stored journeys are complete copies with their answer log.",
        "",
        "| stored journeys | journeys in the database | peak RSS |",
        "|---:|---:|---:|",
    ]
    for m in mem:
        lines.append(f"| {int(m['stored']):,} | {int(m['journeys']):,} | {m['maxrss_mb']:.0f} MB |")
    lines += [
        "",
        "## Summary and export (offline coach, six-stage bakery journey, medians)",
        "",
        "| report (coach) | markdown export | emotion-curve chart (PNG) | all three |",
        "|---:|---:|---:|---:|",
        f"| {ms(times['summary'])} | {ms(times['export'])} | {ms(times['chart'])} | {ms(times['all'])} |",
        "",
        "## LLM summary overhead (bench/llm_summary.py, details in bench/results/llm.md)",
        "",
        "| language | offline coach | LLM path (fake server, no model latency) | overhead |",
        "|---|---:|---:|---:|",
        llm,
        "",
    ]
    text = "\n".join(lines)
    print()
    print(text)
    common.write_results(RESULTS, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
