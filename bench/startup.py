"""Start-up time: `journeybot --help`, and `journeybot chat --jsonl` until its first question line,
each next to `python -c pass` measured in the same run (medians of RUNS fresh processes).

    .venv/bin/python -m bench.startup

The chat runs against a SQLite file that is already at the newest schema (the usual case: the
first start migrates once), each run as a new user, so the first line is the language question.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT

RUNS = 7


def _journeybot() -> list[str]:
    script = Path(sys.executable).with_name("journeybot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "handlers.cli"]


def _timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def _first_question(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if '"question"' in line:
                return time.perf_counter() - started
        raise RuntimeError("journeybot chat --jsonl ended without a question")
    finally:
        proc.kill()
        proc.wait()


def run(runs: int = RUNS) -> dict[str, float]:
    tmp = Path(tempfile.mkdtemp(prefix="jb-startup-"))
    try:
        env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
        env.update(DATABASE_URL=f"sqlite:///{tmp}/startup.db", JOURNEYBOT_LLM="off", JOURNEYBOT_LANG="en")
        chat = _journeybot() + ["chat", "--jsonl", "--export-dir", str(tmp)]
        _first_question(chat, dict(env, JOURNEYBOT_USER="warm-up"))  # creates the schema once
        bare, helps, firsts = [], [], []
        for n in range(runs):  # interleaved, so all three see the same machine
            bare.append(_timed([sys.executable, "-c", "pass"], env))
            helps.append(_timed(_journeybot() + ["--help"], env))
            firsts.append(_first_question(chat, dict(env, JOURNEYBOT_USER=f"owner{n}")))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result = {"python": statistics.median(bare), "help": statistics.median(helps), "first_question": statistics.median(firsts), "runs": runs}
    print(f"  start-up: python -c pass {result['python'] * 1000:.0f} ms; journeybot --help {result['help'] * 1000:.0f} ms "
          f"({result['help'] / result['python']:.1f}x); chat --jsonl first question {result['first_question'] * 1000:.0f} ms "
          f"({result['first_question'] / result['python']:.1f}x)", flush=True)
    return result


if __name__ == "__main__":
    run()
