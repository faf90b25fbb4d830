"""Drive `journeybot chat --jsonl` as a subprocess, one answer at a time."""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TURN_END = {"question", "done", "forgotten"}


def start_chat(db_url: str, export_dir: Path, user: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`journeybot chat --jsonl` in a process of its own, on `db_url`, writing files into `export_dir`."""
    env = dict(os.environ)
    env.update({"DATABASE_URL": db_url, "JOURNEYBOT_USER": user, "JOURNEYBOT_LLM": "off", "PYTHONUNBUFFERED": "1"})
    env.update(extra_env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "handlers.cli", "chat", "--jsonl", "--export-dir", str(export_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=str(Path(__file__).resolve().parents[1]),
        text=True,
        bufsize=1,
    )


class LineReader:
    """Lines of a process's stdout, read straight from the pipe so select() sees what is waiting."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self._buffer = b""

    def next(self, deadline: float) -> str | None:
        """The next line, or None when the deadline passes or the process ended."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], min(remaining, 0.1))
            if not ready:
                if self.proc.poll() is not None:
                    return None
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("utf-8")


class JsonlChat:
    def __init__(
        self, db_url: str, workdir: Path, user: str = "tester", extra_env: dict[str, str] | None = None, first_timeout: float = 30.0
    ) -> None:
        self.proc = start_chat(db_url, workdir, user, extra_env)
        self._lines = LineReader(self.proc)
        self.first = self.read_turn(first_timeout)

    def _next_line(self, deadline: float) -> str | None:
        return self._lines.next(deadline)

    def read_turn(self, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Read bot turns until one that waits for the owner (a question) or ends the interview."""
        turns: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            line = self._next_line(deadline)
            if line is None:
                break
            turns.append(json.loads(line))
            if turns[-1]["type"] in TURN_END:
                # a completed interview also sends its summary right after "done"
                if turns[-1]["type"] == "done":
                    continue
                break
            # ... as the report, its markdown file and the chart, the chart last
            if turns[-1]["type"] == "image" and any(t["type"] == "done" for t in turns):
                break
        return turns

    def send(self, line: str, *, expect_turn: bool = True) -> list[dict[str, Any]]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.read_turn() if expect_turn else []

    def send_raw(self, line: str, expect: int = 1) -> list[dict[str, Any]]:
        """For commands whose turn ends without a question (export after the end): at least `expect`
        lines (each may take a while to draw), then whatever follows before the terminal falls quiet."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        out: list[dict[str, Any]] = []
        line_out = self._next_line(time.monotonic() + 30)
        while line_out is not None:
            out.append(json.loads(line_out))
            line_out = self._next_line(time.monotonic() + (30 if len(out) < expect else 0.5))
        return out

    def close(self) -> int:
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            return self.proc.wait(timeout=30)
        finally:
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream:
                    stream.close()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream:
                try:
                    stream.close()
                except OSError:
                    pass
