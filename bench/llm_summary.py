"""Benchmark: one LLM-written summary against the fake OpenAI-compatible server, next to the offline coach.

    .venv/bin/python -m bench.llm_summary [--runs 20] [--latency 0.0]

Prints, and writes to bench/results/llm.md: the prompt size (characters and the fake server's
token estimate, about four characters per token; a real tokenizer gives a similar count
for this mostly-English JSON), the completion tokens, and the wall time of the offline coach
alone versus the whole LLM path (coach + prompt + HTTP through the real openai client +
validation + merge). `--latency` adds a simulated model latency on the server, to show
that the path's own overhead is small next to any real model. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import openai  # noqa: E402

from bench.common import write_results  # noqa: E402
from bot.coach import build_report  # noqa: E402
from bot.llm_reply import reply_schema  # noqa: E402
from bot.llm_writer import LLMWriter, RetryPolicy, build_messages  # noqa: E402
from devkit.fakes.openai_api import API_KEY, FakeOpenAI, Reply  # noqa: E402
from devkit.llm_support import TODAY, bakery_view, good_llm_report  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "llm.md"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


async def run(runs: int, latency: float) -> dict[str, object]:
    rows: dict[str, object] = {}
    for lang in ("en", "nl"):
        view = bakery_view(lang)

        coach_times = []
        for _ in range(runs):
            started = time.perf_counter()
            coach = build_report(view, TODAY)
            coach_times.append(time.perf_counter() - started)

        messages = build_messages(view, coach, "json_schema")
        prompt_chars = sum(len(m["content"]) for m in messages)
        schema_chars = len(json.dumps(reply_schema()))

        async with FakeOpenAI() as fake:
            fake.default = Reply.json_content(good_llm_report(lang), delay=latency)
            writer = LLMWriter(model="gpt-fake", api_key=API_KEY, base_url=fake.base_url, timeout=30, policy=RetryPolicy(), today=lambda: TODAY)
            await writer.write(view)  # warm-up: imports, schema, first connection
            llm_times = []
            usage = None
            for _ in range(runs):
                started = time.perf_counter()
                written = await writer.write(view)
                llm_times.append(time.perf_counter() - started)
                assert not written.fallback, "the benchmark expects the LLM path, not the fallback"
                usage = written.usage
            calls = fake.calls

        coach_median = statistics.median(coach_times)
        llm_median = statistics.median(llm_times)
        rows[lang] = {
            "prompt_chars": prompt_chars,
            "schema_chars": schema_chars,
            "prompt_tokens": usage.prompt_tokens if usage else 0,
            "completion_tokens": usage.completion_tokens if usage else 0,
            "coach_median": coach_median,
            "llm_median": llm_median,
            "llm_p90": sorted(llm_times)[max(0, int(len(llm_times) * 0.9) - 1)],
            "overhead": llm_median - coach_median - latency,
            "calls": calls,
        }
    return rows


def table(rows: dict[str, object], runs: int, latency: float) -> str:
    out = [
        "# LLM summary benchmark",
        "",
        f"One six-stage bakery journey ({len(bakery_view().touchpoints())} touchpoints), {runs} runs per language, medians. "
        f"Fake OpenAI-compatible server on loopback, real `openai` {openai.__version__} client, "
        f"simulated model latency {latency:.2f} s, Python {platform.python_version()} on {platform.machine()}.",
        "Prompt tokens are the fake server's estimate (about 4 characters per token). "
        "The json_schema response format (the schema itself) is sent besides the prompt and is not counted here.",
        "",
        "| language | prompt chars | prompt tokens | completion tokens | schema chars | offline coach | LLM path | LLM p90 | overhead over coach (minus model latency) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for lang, r in rows.items():
        assert isinstance(r, dict)
        out.append(
            f"| {lang} | {r['prompt_chars']} | {r['prompt_tokens']} | {r['completion_tokens']} | {r['schema_chars']} | "
            f"{ms(r['coach_median'])} | {ms(r['llm_median'])} | {ms(r['llm_p90'])} | {ms(r['overhead'])} |"
        )
    out += [
        "",
        "The LLM path always runs the offline coach first (its findings go into the prompt and it is the fallback), "
        "so its time includes the coach's. With a real model the wall time is dominated by generation: "
        "a few seconds to tens of seconds for about a thousand output tokens; the time budget (JOURNEYBOT_LLM_TOTAL, default 90 s) caps one summary.",
        "",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.0, help="simulated model latency in seconds")
    parser.add_argument("--no-write", action="store_true", help="print only, do not write bench/results/llm.md")
    args = parser.parse_args(argv)
    rows = asyncio.run(run(args.runs, args.latency))
    text = table(rows, args.runs, args.latency)
    print(text)
    if not args.no_write:
        write_results(RESULTS, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
