"""`journeybot chat` prints only text: escape sequences in answers and model output are shown, never
obeyed, and a line that is not valid text gets a message instead of a traceback.

Every test runs the real `journeybot chat` entry point in a process of its own: piped (--jsonl, and
the plain rich output), and interactive on a pseudo-terminal, with the model's report from the fake
OpenAI server.
"""
from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from app import Journeys, OwnerKey
from devkit.drive import type_lines
from devkit.fakes.openai_api import API_KEY, FakeOpenAI, Reply
from devkit.llm_support import good_llm_report
from devkit.scripts import B2B_EN
from store.repository import Store
from tests.conftest import TODAY

ROOT = Path(__file__).resolve().parents[1]
USER = "escapes"
# what a terminal would obey: a window title (OSC 0, ended by BEL and by ST), a clipboard write (OSC 52),
# clearing the screen and a colour (CSI), CSI as one C1 character, backspaces and a carriage return
HOSTILE = "\x1b]0;PWNED\x07\x1b]52;c;ZXZpbA==\x07\x1b[2J\x1b[31mRed\x9b1mBold\x08\x08\rOver \x1b]0;T2\x1b\\end\x7f"
HOSTILE_SHOWN = "␛]0;PWNED␇␛]52;c;ZXZpbA==␇␛[2J␛[31mRed\\x9b1mBold␈␈␍Over ␛]0;T2␛\\end␡"
UNREADABLE_EN = "I could not read that line"
UNREADABLE_NL = "Die regel kon ik niet lezen"


def entry_point() -> list[str]:
    script = Path(sys.executable).with_name("journeybot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "handlers.cli"]


def chat_env(db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "JOURNEYBOT_"))}
    env.update({"DATABASE_URL": db_url, "JOURNEYBOT_USER": USER, "JOURNEYBOT_LLM": "off", "PYTHONUNBUFFERED": "1",
                "COLUMNS": "120", "LINES": "40", "TERM": "xterm-256color"})
    env.update(extra)
    return env


def run_piped(db_url: str, data: bytes, *args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*entry_point(), "chat", *args, "--export-dir", str(tmp_path)], input=data, capture_output=True,
                          env=chat_env(db_url, **env), cwd=ROOT, timeout=120)


def assert_clean_exit(done: subprocess.CompletedProcess[bytes]) -> None:
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0, err
    assert "Traceback" not in err and "UnicodeDecodeError" not in err and "UnicodeEncodeError" not in err, err


def assert_only_text(out: bytes, *, styles: bool) -> None:
    """Nothing a terminal would obey: no control character but line breaks and tabs, no C1 control;
    with `styles`, rich's own colour sequences (SGR, ESC [ … m) are the only escape sequences."""
    text = out.decode("utf-8")
    if styles:
        text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    text = text.replace("\r\n", "\n")
    bad = sorted({f"U+{ord(c):04X}" for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F})
    assert not bad, bad


def jsonl(out: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.decode("utf-8").splitlines()]


# -- piped: --jsonl and plain ------------------------------------------------------------------------


@pytest.mark.parametrize("io_encoding", ["", "utf-8:strict"], ids=["surrogateescape", "strict"])
def test_undecodable_input_gets_a_message_and_the_question_again(sqlite_url: str, tmp_path: Path, io_encoding: str) -> None:
    """One byte that is not UTF-8 ended `journeybot chat` with a traceback; now the line is refused with
    a message in the owner's language (both before one is chosen) and the next line is the answer."""
    extra = {"PYTHONIOENCODING": io_encoding} if io_encoding else {}
    done = run_piped(sqlite_url, b"\xff\nen\n\xffabc\nNorthwind\xc3\xa9 IT\n", "--jsonl", tmp_path=tmp_path, **extra)
    assert_clean_exit(done)
    turns = jsonl(done.stdout)
    errors = [t for t in turns if t["type"] == "error"]
    assert len(errors) == 2, turns
    assert UNREADABLE_EN in errors[0]["text"] and UNREADABLE_NL in errors[0]["text"]  # no language chosen yet
    assert UNREADABLE_EN in errors[1]["text"] and UNREADABLE_NL not in errors[1]["text"] and "UTF-8" in errors[1]["text"]
    after = [turns[turns.index(e) + 1] for e in errors]
    assert [t["step"] for t in after] == ["meta.language", "business.name"]  # the question again
    assert turns[-1]["step"] == "business.sector" and "Northwindé IT" in turns[-1]["text"]  # the next line is the answer


def test_undecodable_input_in_dutch(sqlite_url: str, tmp_path: Path) -> None:
    done = run_piped(sqlite_url, b"nl\n\xfe\xff\n", tmp_path=tmp_path)
    assert_clean_exit(done)
    out = done.stdout.decode("utf-8")
    assert UNREADABLE_NL in out and UNREADABLE_EN not in out
    assert_only_text(done.stdout, styles=False)


def test_jsonl_keeps_the_exact_text_with_every_control_character_escaped(sqlite_url: str, tmp_path: Path) -> None:
    done = run_piped(sqlite_url, b"en\n" + HOSTILE.encode("utf-8") + b"\n", "--jsonl", tmp_path=tmp_path)
    assert_clean_exit(done)
    assert_only_text(done.stdout, styles=False)  # json.dumps escapes C0; DEL and C1 are escaped too
    asked = jsonl(done.stdout)[-1]
    assert asked["step"] == "business.sector"
    kept = HOSTILE.replace("\r", " ").split()  # the answer is stored as typed, white space normalised
    assert all(part in asked["text"] for part in kept), asked["text"]
    assert "\x1b]52;c;ZXZpbA==\x07" in asked["text"] and "\x9b1m" in asked["text"]


def test_plain_output_shows_escape_sequences_as_symbols(sqlite_url: str, tmp_path: Path) -> None:
    """Without --jsonl and without a terminal (`journeybot chat < answers.txt`): rich output, all text."""
    done = run_piped(sqlite_url, b"en\n" + HOSTILE.encode("utf-8") + b"\n", tmp_path=tmp_path)
    assert_clean_exit(done)
    assert_only_text(done.stdout, styles=False)
    out = done.stdout.decode("utf-8")
    assert "␛]0;PWNED␇␛]52;c;ZXZpbA==␇␛[2J␛[31mRed\\x9b1mBold␈␈␍Over" in out  # shown, not obeyed


# -- interactive, on a pseudo-terminal, with the model's report ------------------------------------------


class Terminal:
    """`journeybot chat` on a pseudo-terminal: what a person at a terminal would see and type."""

    PROMPT = "you›".encode("utf-8")

    def __init__(self, env: dict[str, str], export_dir: Path) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen([*entry_point(), "chat", "--export-dir", str(export_dir)], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
                                     close_fds=True, start_new_session=True)
        os.close(slave)
        self.output = b""

    def wait_for(self, marker: bytes, since: int, limit: float = 60.0) -> bytes:
        """Everything shown since `since` up to `marker` (limit: a bound on waiting, not a measurement)."""
        deadline = time.monotonic() + limit
        while marker not in self.output[since:]:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {marker!r} in {self.output[since:]!r}"
            ready, _, _ = select.select([self.master], [], [], min(remaining, 0.2))
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the process closed the terminal
                    chunk = b""
                assert chunk or marker in self.output[since:], f"ended before {marker!r}: {self.output[since:]!r}"
                self.output += chunk
        return self.output[since:]

    def type(self, line: bytes) -> bytes:
        """Type a line and return what was shown until the next prompt (without the terminal's echo of the line)."""
        since = len(self.output)
        os.write(self.master, line + b"\n")
        shown = self.wait_for(self.PROMPT, since)
        assert shown.startswith(line + b"\r\n"), shown[:200]
        return shown[len(line) + 2 :]

    def close(self) -> int:
        since = len(self.output)
        os.write(self.master, b"\x04")  # Ctrl-D at the prompt
        self.wait_for("Bye".encode(), since)
        try:
            return self.proc.wait(timeout=60)
        finally:
            os.close(self.master)


def finished_journey(db_url: str) -> None:
    """A whole interview for USER, with escape sequences in the business name and in a pain."""
    script = list(B2B_EN)
    script[1] = "Northwind " + HOSTILE
    script[script.index("4 3 - Registration form asks too much")] = "4 3 - Registration form asks too much " + HOSTILE
    store = Store.open(db_url)
    try:
        type_lines(Journeys(store, today=lambda: TODAY), OwnerKey("terminal", "local", USER), script)
    finally:
        store.close()


def hostile_llm_report() -> dict[str, Any]:
    """A reply for the B2B journey above (its quotes are the owner's words), with escape sequences in its texts."""
    reply = good_llm_report()
    quote = "Registration form asks too much"
    reply["summary"] = [f"Model paragraph {HOSTILE}", *reply["summary"]]
    reply["improvements"] = [
        {"n": 1, "step": "", "title": f"Model card {HOSTILE}", "why": "The lowest step weighs most in what they remember.", "trigger": quote, "remedies": []}
    ]
    reply["wow_moments"] = [{"n": 1, "idea": f"Model idea {HOSTILE}", "why": "It would surprise them at the end of the journey.", "trigger": quote}]
    return reply


@pytest.mark.parametrize("io_encoding", ["", "utf-8:strict"], ids=["surrogateescape", "strict"])
async def test_interactive_terminal_shows_answers_and_model_output_as_text(sqlite_url: str, tmp_path: Path, io_encoding: str) -> None:
    finished_journey(sqlite_url)
    async with FakeOpenAI() as fake:
        fake.default = Reply.json_content(hostile_llm_report())
        env = chat_env(sqlite_url, OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY=API_KEY, JOURNEYBOT_LLM="on")
        if io_encoding:
            env["PYTHONIOENCODING"] = io_encoding

        def session() -> tuple[bytes, bytes, bytes, int]:
            terminal = Terminal(env, tmp_path)
            try:
                start = terminal.wait_for(Terminal.PROMPT, 0)  # where the owner left off, naming the journey
                summary = terminal.type(b"/summary")  # written by the model
                unreadable = terminal.type(b"\xff\xfe")
                return start, summary, unreadable, terminal.close()
            finally:
                if terminal.proc.poll() is None:
                    terminal.proc.kill()

        start, summary, unreadable, code = await asyncio.to_thread(session)
    assert code == 0 and fake.calls == 1
    for shown in (start, summary, unreadable):
        assert_only_text(shown, styles=True)
    assert "\x1b[" in summary.decode("utf-8")  # a real terminal: rich colours it
    start_text, summary_text, unreadable_text = (re.sub(r"\x1b\[[0-9;]*m", "", b.decode("utf-8")) for b in (start, summary, unreadable))
    assert "Northwind " + HOSTILE_SHOWN[:40] in start_text  # the owner's answer, shown as symbols
    for shown in ("Model paragraph", "Model card", "Model idea"):
        assert shown + " " + HOSTILE_SHOWN in summary_text, shown
    assert UNREADABLE_EN in unreadable_text and "Traceback" not in unreadable_text
