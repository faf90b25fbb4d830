"""All benchmarks, one command: `make bench` (= `.venv/bin/python -m bench`).

Prints one table and writes it to bench/results/latest.md. Never part of the test suite.

    .venv/bin/python -m bench            # everything (about four minutes)
    .venv/bin/python -m bench --quick    # shorter runs, for a smoke test

Sections: the issue 10 figures first: PostgreSQL round trips per step and the step's p50 against a
bare transaction (bench/roundtrips.py), start-up against `python -c pass` (bench/startup.py); then
step latency (bench/step_latency.py), Telegram updates per second and CPU per update next to an
echo bot (bench/telegram_throughput.py), resident memory against stored journeys (bench/memory.py),
summary/export/chart time (below), the LLM summary overhead (bench/llm_summary.py, which
also writes bench/results/llm.md), the interview length of three scripted businesses next to
the figures before issue 11 (bench/interview_length.py), the pain classifier's accuracy on the
labelled owner sentences (bench/pain_classifier.py), how many sentences the coach's advice for
businesses of different sectors shares (bench/coach_variety.py), and customers' submissions per second
through the survey page on SQLite and PostgreSQL (bench/survey_page.py).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
from typing import Callable

from bench import coach_variety, common, interview_length, memory, pain_classifier, roundtrips, startup, step_latency, survey_page, telegram_throughput
from bench.common import ROOT, database, ms

RESULTS = ROOT / "bench" / "results" / "latest.md"


def section_or_note(name: str, heading: str, section: Callable[[], list[str]]) -> list[str]:
    """A section's lines, or its heading with why it was not measured: code mid-rewrite (the interview,
    the knowledge files) must not cost the other figures."""
    print(f"{name} ...", flush=True)
    try:
        return section()
    except Exception as exc:  # whatever broke, the other sections still count
        print(f"  {name} failed: {type(exc).__name__}: {exc}", flush=True)
        return [f"## {heading}", "", f"Not measured: {type(exc).__name__}: {exc}"]


def summary_times(runs: int = 20) -> dict[str, float]:
    from app import Journeys, OwnerKey
    from devkit.drive import type_lines
    from devkit.scripts import BAKERY_NL
    from store.db import database_url
    from store.repository import Store

    with database("sqlite") as url:
        journeys = Journeys(Store.open(database_url({"DATABASE_URL": url})))
        owner = OwnerKey("bench", "summary", "bakery")
        type_lines(journeys, owner, BAKERY_NL)
        journey = journeys.current_journey_id(owner)
        journeys.chart(owner, journey)  # warm-up: matplotlib import and font cache
        out: dict[str, list[float]] = {"summary": [], "export": [], "chart": [], "all": []}
        for _ in range(runs):
            t0 = time.perf_counter()
            asyncio.run(journeys.report(owner, journey))
            t1 = time.perf_counter()
            asyncio.run(journeys.export(owner, journey))  # the report again (cached) and the markdown
            t2 = time.perf_counter()
            journeys.chart(owner, journey)
            t3 = time.perf_counter()
            out["summary"].append(t1 - t0)
            out["export"].append(t2 - t1)
            out["chart"].append(t3 - t2)
            out["all"].append(t3 - t0)
        journeys.close()
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

    print("start-up ...", flush=True)
    boot = startup.run(5 if args.quick else 9)
    rt = None
    if not pg_note:
        print("postgresql round trips ...", flush=True)
        rt = roundtrips.run(2 if args.quick else 5)
    print("step latency ...", flush=True)
    steps = step_latency.run(kinds, [1, 100, 1000], duration)
    print("telegram ...", flush=True)
    try:
        tg: dict | None = telegram_throughput.run(users=50, lines=10 if args.quick else 20)
        tg_error = ""
    except Exception as exc:  # the adapter may be mid-rewrite: the other figures still count
        tg, tg_error = None, f"{type(exc).__name__}: {exc}"
        print(f"  telegram benchmark failed: {tg_error}", flush=True)
    print("memory ...", flush=True)
    mem = memory.run("sqlite", (1000, 10000))
    print("summary and export ...", flush=True)
    times = summary_times(5 if args.quick else 20)
    print("llm overhead ...", flush=True)
    llm = llm_overhead()
    length = section_or_note("interview length", "Interview length (bench/interview_length.py)", interview_length.section)
    pains = section_or_note("pain classifier", "Pain classifier (bench/pain_classifier.py)", pain_classifier.section)
    variety = section_or_note("coach variety", "Coach: canned text (bench/coach_variety.py)", coach_variety.section)
    survey = section_or_note("survey page", "Survey page (bench/survey_page.py)", lambda: survey_page.section(args.quick))

    p99_100 = next((r.p99 for r in steps if r.db == "sqlite" and r.conversations == 100), float("nan"))
    growth = mem[-1]["maxrss_mb"] - mem[0]["maxrss_mb"]
    na = f"skipped ({pg_note})"
    tg_cell = (f"journeybot {tg['journeybot']:.0f} updates/s, {tg['journeybot_cpu'] * 1000:.2f} ms CPU/update; "
               f"echo {tg['echo']:.0f} updates/s, {tg['echo_cpu'] * 1000:.2f} ms CPU/update") if tg else f"failed: {tg_error}"
    lines = [
        "# journeybot benchmarks",
        "",
        f"`make bench` (`.venv/bin/python -m bench{' --quick' if args.quick else ''}`) on {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}; took {time.perf_counter() - started:.0f} s. "
        "Figures are printed, never asserted; ratios are measured side by side in the same run.",
        "",
        "## Issue 10 figures",
        "",
        "| figure | target | measured |",
        "|---|---|---|",
        f"| PostgreSQL round trips per step (dedup key on every step) | <= 6 (was 12.8) | "
        + (f"{rt.per_step:.2f} (max {rt.max_per_step})" if rt else na) + " |",
        f"| PostgreSQL step p50 / bare `BEGIN; INSERT; COMMIT` | <= 10x (was 27-40x) | "
        + (f"{rt.ratio:.1f}x ({ms(rt.step_p50)} / {ms(rt.bare_p50)})" if rt else na) + " |",
        f"| SQLite p99 step latency, 100 concurrent conversations | < 50 ms (was 1.4-1.8 s) | {ms(p99_100)} |",
        f"| `journeybot --help` | < 150 ms | {ms(boot['help'])} ({boot['help'] / boot['python']:.1f}x `python -c pass`, {ms(boot['python'])}) |",
        f"| `journeybot chat --jsonl` to its first question | < 400 ms | {ms(boot['first_question'])} ({boot['first_question'] / boot['python']:.1f}x `python -c pass`) |",
        f"| Telegram, long polling ({telegram_throughput.POLL_TIMEOUT:.0f} s), fake Bot API in its own process | reported | {tg_cell} |",
        f"| memory flat in stored journeys (1k -> 10k) | flat | {mem[0]['maxrss_mb']:.0f} MB -> {mem[-1]['maxrss_mb']:.0f} MB ({growth:+.0f} MB) |",
        "",
        "## PostgreSQL round trips per step (bench/roundtrips.py)",
        "",
    ]
    if rt:
        lines += [
            f"The B2B interview ({rt.steps} steps over all rounds) through `app.Journeys`, each step with a dedup key as the "
            "adapters send it; counted with SQLAlchemy engine events (BEGIN, every cursor execute, COMMIT, ROLLBACK). "
            "The bare transaction runs through the same engine and driver (psycopg 3) right after each step.",
            "",
            "| per step | BEGIN | executes | COMMIT | ROLLBACK | max in one step | step p50 | bare p50 | ratio |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {rt.per_step:.2f} | {rt.kinds['begin']:.2f} | {rt.kinds['execute']:.2f} | {rt.kinds['commit']:.2f} | "
            f"{rt.kinds['rollback']:.2f} | {rt.max_per_step} | {ms(rt.step_p50)} | {ms(rt.bare_p50)} | {rt.ratio:.1f}x |",
        ]
    else:
        lines.append(na)
    lines += [
        "",
        "## Start-up (bench/startup.py)",
        "",
        f"Medians of {boot['runs']} fresh processes each, interleaved. The chat runs on a SQLite file already at the newest schema, as a new user each time.",
        "",
        "| command | median | / `python -c pass` |",
        "|---|---:|---:|",
        f"| `python -c pass` | {ms(boot['python'])} | 1.0x |",
        f"| `journeybot --help` | {ms(boot['help'])} | {boot['help'] / boot['python']:.1f}x |",
        f"| `journeybot chat --jsonl` to the first question line | {ms(boot['first_question'])} | {boot['first_question'] / boot['python']:.1f}x |",
        "",
        "## Step latency (engine + store, one answer to the next question; bench/step_latency.py)",
        "",
        f"Every step carries a dedup key, as the adapters send one. 1 conversation: the B2B interview typed three times, sequentially. 100 / 1,000: that many owners mid-interview, "
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
    lines += ["", "## Telegram updates per second (bench/telegram_throughput.py)", ""]
    if tg:
        lines += [
            f"{tg['updates']:,} updates (50 owners: /start and the interview's answers), long polling with a timeout of "
            f"{telegram_throughput.POLL_TIMEOUT:.0f} s against the fake Bot API server on loopback in a process of its own, so the "
            "bot's process does only the bot's work; CPU is that process's user + system time over the updates handled. SQLite. "
            "The adapter's AIORateLimiter keeps to Telegram's flood limit (30 messages/s overall); it is taken out for the "
            "journeybot row to measure the bot's own work.",
            "",
            "| bot | updates/s | CPU per update |",
            "|---|---:|---:|",
            f"| bare python-telegram-bot echo bot | {tg['echo']:.0f} | {tg['echo_cpu'] * 1000:.2f} ms |",
            f"| journeybot adapter, flood limiter off | {tg['journeybot']:.0f} | {tg['journeybot_cpu'] * 1000:.2f} ms |",
            f"| journeybot adapter as shipped (flood limiter on) | {tg['flood_limited']:.0f} | – |",
            f"| ratio journeybot / echo | {tg['ratio']:.2f} | {tg['journeybot_cpu'] / max(tg['echo_cpu'], 1e-9):.1f}x |",
        ]
    else:
        lines.append(f"Not measured: {tg_error}")
    lines += [
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
        "| report (coach) | markdown export (report cached) | emotion-curve chart (PNG) | all three |",
        "|---:|---:|---:|---:|",
        f"| {ms(times['summary'])} | {ms(times['export'])} | {ms(times['chart'])} | {ms(times['all'])} |",
        "",
        "## LLM summary overhead (bench/llm_summary.py, details in bench/results/llm.md)",
        "",
        "| language | offline coach | LLM path (fake server, no model latency) | overhead |",
        "|---|---:|---:|---:|",
        llm,
        "",
        *length,
        "",
        *pains,
        "",
        *variety,
        "",
        *survey,
        "",
    ]
    text = "\n".join(lines)
    print()
    print(text)
    common.write_results(RESULTS, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
