"""Interview length (issue 11): how many turns, characters and minutes a complete map costs the owner.

Three scripted businesses (devkit/scripts.py: a Dutch bakery, an English physiotherapy practice, a
Dutch B2B installer; 5-6 stages, 14-15 touchpoints) are driven through `journeybot chat --jsonl`,
each on a fresh SQLite file. Every `question` line is answered by the business's answer policy,
which answers whatever step is asked from the business's facts; the run stops at `done`. Then
`journeybot export` writes the markdown file and the depth of the map is checked: every touchpoint
has a channel, a feeling and a team, the persona is complete, every stage has its evidence light.

Minutes are an estimate: 15 s per choice (an answer of at most 3 characters, a /command, a choice's
value or label, or only numbers such as "1, 3" or "4 3 2") and 40 s per typed answer.

    .venv/bin/python -m bench.interview_length                  # print the table
    .venv/bin/python -m bench.interview_length --record-before  # write bench/results/interview_length_before.md

Figures are printed, never asserted. `make bench` runs this as one of its sections.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from bench.common import ROOT, write_results

from devkit.scripts import BUSINESSES, Business, UnknownQuestion, owner_policy  # noqa: E402

BEFORE = ROOT / "bench" / "results" / "interview_length_before.md"
CHOICE_SECONDS = 15
TYPED_SECONDS = 40
MAX_TURNS = 400
SAME_STEP_LIMIT = 4  # the same question asked this often in a row: the policy's answer is not accepted
TURN_TIMEOUT = 60.0
KEYWORDS = {"behouden", "keep", "ik zelf", "just me", "ok", "ja", "yes"}
LIGHTS = ("🟢", "🟠", "🔴")
EMPTY_CELLS = {"", "–", "-", "—"}


@dataclass
class Run:
    business: Business
    turns: int = 0
    chars: int = 0
    choices: int = 0
    typed: int = 0
    errors: list[str] = field(default_factory=list)
    stages: int = 0
    touchpoints: int = 0
    problems: list[str] = field(default_factory=list)
    failure: str = ""
    seconds: float = 0.0
    transcript: list[tuple[str, str]] = field(default_factory=list)
    turns_inline: int | None = None  # the same owner typing each stage's pain after its ratings

    @property
    def minutes(self) -> float:
        return (self.choices * CHOICE_SECONDS + self.typed * TYPED_SECONDS) / 60

    @property
    def depth(self) -> str:
        if self.failure:
            return f"failed: {self.failure}"
        return "depth ok" if not self.problems else "missing: " + "; ".join(self.problems)


def is_choice_answer(question: Mapping[str, Any], line: str) -> bool:
    """A tap or a short choice (15 s) rather than a typed answer (40 s)."""
    text = line.strip()
    if len(text) <= 3 or text.startswith("/") or text.casefold() in KEYWORDS:
        return True
    names = set()
    for c in question.get("choices") or ():
        names.add(str(c.get("value", "")).casefold())
        names.add(str(c.get("label", "")).casefold())
    if text.casefold() in names:
        return True
    items = [i for i in re.split(r"[,;\s]+", text) if i]
    return all(i.isdigit() or i.casefold() in names for i in items)


SOURCE_COMMIT = ""  # what --source is a checkout of, for the record (--source-commit)
SOURCE: Path | None = None  # another checkout to run the chat from (--source), else this tree


def command() -> list[str]:
    if SOURCE is not None:  # its modules come first on sys.path: python -m from that folder
        return [sys.executable, "-m", "handlers.cli"]
    script = ROOT / ".venv" / "bin" / "journeybot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "handlers.cli"]


def source_root() -> Path:
    return SOURCE or ROOT


class Chat:
    """`journeybot chat --jsonl` in a subprocess, read one JSON line at a time."""

    def __init__(self, env: dict[str, str], export_dir: Path) -> None:
        self.proc = subprocess.Popen(
            command() + ["chat", "--jsonl", "--export-dir", str(export_dir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=str(source_root()),
        )
        self.buffer = b""

    def line(self, timeout: float = TURN_TIMEOUT) -> dict[str, Any] | None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no line from journeybot chat within {timeout:.0f} s")
            ready, _, _ = select.select([fd], [], [], min(remaining, 0.5))
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self.buffer += chunk
        raw, _, self.buffer = self.buffer.partition(b"\n")
        return json.loads(raw.decode("utf-8"))

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((line + "\n").encode("utf-8"))
        self.proc.stdin.flush()

    def close(self) -> str:
        try:  # closes stdin: the chat ends as when the owner stops typing
            _, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err.decode("utf-8", "replace")


def drive(business: Business, workdir: Path, *, keep_transcript: bool = False, inline_pains: bool = False) -> Run:
    """One complete interview of `business` on a fresh SQLite file in `workdir`, then its depth."""
    run = Run(business)
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": f"sqlite:///{workdir / 'journeybot.db'}",
        "JOURNEYBOT_USER": f"bench-{business.key}",
        "JOURNEYBOT_LLM": "off",
        "PYTHONUNBUFFERED": "1",
    })
    if SOURCE is not None:
        env["PYTHONPATH"] = str(SOURCE)
    env.pop("OPENAI_API_KEY", None)
    env.pop("OPENAI_BASE_URL", None)
    policy = owner_policy(business, inline_pains=inline_pains)
    chat = Chat(env, workdir)
    started = time.perf_counter()
    last_step, same = None, 0
    try:
        while True:
            item = chat.line()
            if item is None:
                run.failure = "the chat ended before the last question"
                break
            if item["type"] == "error":
                run.errors.append(f"{last_step}: {item['text'][:160]}")
            if item["type"] == "done":
                break
            if item["type"] != "question":
                continue
            step = item.get("step")
            same = same + 1 if step == last_step else 1
            last_step = step
            if same > SAME_STEP_LIMIT:
                run.failure = f"{step} asked {same} times in a row; last error: {run.errors[-1] if run.errors else '-'}"
                break
            if run.turns >= MAX_TURNS:
                run.failure = f"more than {MAX_TURNS} turns"
                break
            try:
                answer = policy(item)
            except UnknownQuestion as exc:
                run.failure = str(exc)
                break
            run.turns += 1
            run.chars += len(answer)
            if is_choice_answer(item, answer):
                run.choices += 1
            else:
                run.typed += 1
            if keep_transcript:
                run.transcript.append((str(step), answer))
            chat.send(answer)
    except (TimeoutError, OSError, ValueError) as exc:
        run.failure = f"{type(exc).__name__}: {exc}"
    run.seconds = time.perf_counter() - started
    stderr = chat.close()
    if run.failure:
        tail = stderr.strip().splitlines()[-1:] if stderr.strip() else []
        run.failure += f" ({tail[0][:200]})" if tail else ""
        return run
    out = workdir / "export.md"
    done = subprocess.run(command() + ["export", "-o", str(out)], env=env, cwd=str(source_root()), capture_output=True, text=True, timeout=120)
    if done.returncode != 0 or not out.exists():
        run.failure = f"journeybot export failed: {(done.stderr or done.stdout).strip()[-200:]}"
        return run
    markdown = out.read_text(encoding="utf-8")
    run.stages, run.touchpoints, run.problems = depth(markdown, business)
    return run


def table_rows(lines: list[str]) -> list[list[str]]:
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines if line.startswith("|") and not line.startswith("|---")]


def depth(markdown: str, business: Business) -> tuple[int, int, list[str]]:
    """(stages, touchpoints, what is missing) read from an export: channel, feeling and team of every
    touchpoint, every persona row, an evidence light for the persona and for every stage."""
    problems: list[str] = []
    sections = re.split(r"^## ", markdown, flags=re.M)
    persona = next((s for s in sections[1:] if s.startswith("Buyer persona")), None)
    if persona is None:
        problems.append("no persona section")
    else:
        rows = table_rows(persona.splitlines())[1:]  # the header row first
        empty = [r[0] for r in rows if len(r) < 2 or r[1] in EMPTY_CELLS]
        if len(rows) < 8:
            problems.append(f"persona has {len(rows)} of 8 rows")
        if empty:
            problems.append("persona without " + ", ".join(empty))
        if not any(light in persona for light in LIGHTS):
            problems.append("no evidence light for the persona")
    journey = next((s for s in sections[1:] if s.startswith(("Klantreis", "Customer journey", "Journey"))), None)
    stage_blocks = re.split(r"^### ", journey, flags=re.M)[1:] if journey else []
    if not stage_blocks:
        problems.append("no stages in the export")
    touchpoints = 0
    for block in stage_blocks:
        title = block.splitlines()[0].strip()
        evidence_line = next((line for line in block.splitlines()[1:] if line.strip().startswith("_")), "")
        if not any(light in evidence_line for light in LIGHTS):
            problems.append(f"{title}: no evidence light")
        rows = table_rows(block.splitlines())[1:]
        for row in rows:
            touchpoints += 1
            if len(row) < 5:
                problems.append(f"{title} / {row[0]}: short row")
                continue
            name, channel, feeling, _pain, team = row[:5]
            missing = [what for what, cell in (("channel", channel), ("team", team)) if cell in EMPTY_CELLS or cell.casefold() in ("weet ik niet", "don't know")]
            if not re.fullmatch(r"[1-5]([.,]\d)?", feeling):
                missing.append("feeling")
            if missing:
                problems.append(f"{name}: no {' '.join(missing)}")
    if len(stage_blocks) != len(business.stages):
        problems.append(f"{len(stage_blocks)} stages, expected {len(business.stages)}")
    if touchpoints != business.touchpoint_count:
        problems.append(f"{touchpoints} touchpoints, expected {business.touchpoint_count}")
    return len(stage_blocks), touchpoints, problems


def run(businesses: tuple[Business, ...] = BUSINESSES, *, verbose: bool = False) -> list[Run]:
    runs = []
    for business in businesses:
        with tempfile.TemporaryDirectory(prefix="jb-length-") as tmp:
            result = drive(business, Path(tmp), keep_transcript=verbose)
        if not SOURCE:  # the ratings question of the shorter interview takes the stage's pain on the same line
            with tempfile.TemporaryDirectory(prefix="jb-length-") as tmp:
                inline = drive(business, Path(tmp), inline_pains=True)
            result.turns_inline = inline.turns if not inline.failure else None
        runs.append(result)
        print(f"  {business.key}: {result.turns} turns ({result.turns_inline} with the pains typed after the ratings), "
              f"{result.chars} characters, {result.stages} stages, "
              f"{result.touchpoints} touchpoints, about {result.minutes:.0f} min; {result.depth}", flush=True)
        for error in result.errors:
            print(f"    error shown: {error}", flush=True)
        if verbose:
            for step, answer in result.transcript:
                print(f"    {step} <- {answer}")
    return runs


# -- the figures before issue 11 -------------------------------------------------------------------
def read_before(path: Path = BEFORE) -> dict[str, dict[str, str]]:
    """The recorded "before" figures per business key (empty when not recorded)."""
    if not path.exists():
        return {}
    rows = table_rows(path.read_text(encoding="utf-8").splitlines())
    if not rows:
        return {}
    header = rows[0]
    return {r[0].strip("`"): dict(zip(header, r)) for r in rows[1:] if len(r) == len(header)}


BEFORE_HEADER = ["business", "language", "stages", "touchpoints", "owner turns", "choices", "typed answers", "typed characters", "minutes"]


def before_text(runs: list[Run]) -> str:
    lines = [
        "# Interview length before issue 11",
        "",
        "Recorded by `.venv/bin/python -m bench.interview_length --record-before"
        + (f" --source DIR --source-commit {SOURCE_COMMIT}` (DIR: `git archive {SOURCE_COMMIT}` unpacked, so the chat ran "
           f"the code of commit {SOURCE_COMMIT})" if SOURCE_COMMIT else f"` (commit {git_head()})")
        + f" on {time.strftime('%Y-%m-%d')}, with the interview as it was before the shorter flow: four questions "
        "per touchpoint (channel, feeling, pain, team), evidence and delights per stage. The businesses and "
        "their answer policies are in devkit/scripts.py; minutes are 15 s per choice and 40 s per typed answer. "
        "bench/interview_length.py reads this table and prints it next to every new run.",
        "",
        "| " + " | ".join(BEFORE_HEADER) + " |",
        "|" + "|".join("---" if i < 2 else "---:" for i in range(len(BEFORE_HEADER))) + "|",
    ]
    for r in runs:
        lines.append(f"| {r.business.key} | {r.business.lang} | {r.stages} | {r.touchpoints} | {r.turns} | {r.choices} | "
                     f"{r.typed} | {r.chars} | {r.minutes:.1f} |")
    lines += ["", "Depth at the end of each run: " + "; ".join(f"{r.business.key} {r.depth}" for r in runs) + ".", ""]
    return "\n".join(lines)


def git_head() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=str(ROOT), capture_output=True, text=True, timeout=10).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def table(runs: list[Run], before: dict[str, dict[str, str]] | None = None) -> list[str]:
    """The markdown table of a run, with the recorded "before" figures next to it."""
    before = read_before() if before is None else before
    lines = [
        "| business | stages | touchpoints | owner turns (before → now) | turns with pains typed after the ratings | typed characters (before → now) | minutes (before → now) | depth |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        b = before.get(r.business.key, {})

        def pair(key: str, now: str) -> str:
            return f"{b[key]} → {now}" if key in b else f"– → {now}"

        if r.failure:
            lines.append(f"| {r.business.key} | – | – | {pair('owner turns', '–')} | – | {pair('typed characters', '–')} | {pair('minutes', '–')} | {r.depth} |")
            continue
        lines.append(
            f"| {r.business.key} ({r.business.lang}) | {r.stages} | {r.touchpoints} | {pair('owner turns', str(r.turns))} | {r.turns_inline if r.turns_inline is not None else '–'} | "
            f"{pair('typed characters', str(r.chars))} | {pair('minutes', f'{r.minutes:.1f}')} | {r.depth} |"
        )
    return lines


def section() -> list[str]:
    """The interview-length section of bench/results/latest.md (all three businesses: about 10 s)."""
    runs = run(BUSINESSES)
    return [
        "## Interview length (bench/interview_length.py)",
        "",
        "Scripted businesses (devkit/scripts.py) driven through `journeybot chat --jsonl` to the end, each on a fresh SQLite "
        "file; every question answered by the business's answer policy. Minutes: 15 s per choice (a number, a short value, a "
        "keyword or a /command), 40 s per typed answer. Depth: `journeybot export` has channel, feeling and team for every "
        "touchpoint, the full persona and every evidence light. \"Before\": bench/results/interview_length_before.md.",
        "",
        *table(runs),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="interview length per scripted business")
    parser.add_argument("--record-before", action="store_true", help=f"write the figures to {BEFORE.relative_to(ROOT)}")
    parser.add_argument("--only", action="append", help="a business key (repeatable): " + ", ".join(b.key for b in BUSINESSES))
    parser.add_argument("--source", type=Path, help="run the chat from this checkout instead (e.g. `git archive` of the commit before a change)")
    parser.add_argument("--source-commit", default="", help="the commit --source was taken from, written into the record")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every question step and the answer given")
    args = parser.parse_args(argv)
    global SOURCE, SOURCE_COMMIT
    SOURCE = args.source.resolve() if args.source else None
    SOURCE_COMMIT = args.source_commit
    chosen = tuple(b for b in BUSINESSES if not args.only or b.key in args.only)
    runs = run(chosen, verbose=args.verbose)
    print()
    print("\n".join(table(runs)))
    if args.record_before:
        if any(r.failure or r.problems for r in runs):
            print("not recorded: a run failed or lost depth")
            return 1
        write_results(BEFORE, before_text(runs))
    return 0 if not any(r.failure for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
