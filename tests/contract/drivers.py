"""Drivers for the contract suite: one small interface, one implementation per channel.

A driver sends what an owner does (type a line, tap a choice of the question on screen, hand over a
CSV file of customers' answers) and returns what the owner saw, as a `Turn` of `Seen` items:
questions, texts, a summary report, files and pictures. Every channel has its own way to show them;
the driver reads them back from what the channel really sent.
"""
from __future__ import annotations

import prompts

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import Journeys
from app.outgoing import FileItem, ImageItem, Outgoing, ReportItem
from bot.events import Command
from bot.replies import Reply
from handlers.testing import TestChannel
from tests.jsonl_chat import LineReader, start_chat



@dataclass(frozen=True)
class Seen:
    kind: str  # "question" | "text" | "report" | "file" | "image"
    text: str = ""
    step: str | None = None
    choices: tuple[str, ...] = ()
    tone: str | None = None  # info | error | done | forgotten, where the channel shows it
    name: str = ""
    data: bytes = b""


@dataclass
class Turn:
    items: list[Seen] = field(default_factory=list)

    def of(self, kind: str) -> list[Seen]:
        return [i for i in self.items if i.kind == kind]

    @property
    def questions(self) -> list[Seen]:
        return self.of("question")

    @property
    def question(self) -> Seen | None:
        questions = self.questions
        return questions[-1] if questions else None

    @property
    def text(self) -> str:
        """Everything the owner could read in this turn."""
        return "\n".join(i.text for i in self.items if i.kind in ("question", "text", "report"))

    @property
    def errors(self) -> list[Seen]:
        return [i for i in self.items if i.tone == "error"]

    @property
    def markdown(self) -> list[Seen]:
        return [i for i in self.of("file") if i.name.endswith(".md")]

    @property
    def images(self) -> list[Seen]:
        return self.of("image")

    @property
    def reports(self) -> list[Seen]:
        return self.of("report")

    def __add__(self, other: "Turn") -> "Turn":
        return Turn(self.items + other.items)

    def __repr__(self) -> str:
        return "Turn(" + ", ".join(f"{i.kind}:{(i.step or i.name or i.text)[:60]!r}" for i in self.items) + ")"


class Driver:
    name = "?"

    async def start(self) -> Turn:
        raise NotImplementedError

    async def say(self, text: str) -> Turn:
        raise NotImplementedError

    async def tap(self, value: str) -> Turn:
        """Tap the choice `value` of the question on screen."""
        raise NotImplementedError

    async def results(self, csv: str) -> Turn:
        """Hand over a CSV file of customers' survey answers (/results)."""
        raise NotImplementedError

    async def close(self) -> None:
        pass


WORKING = {prompts.say(lang, "messages", "summary.working") for lang in prompts.LANGUAGES}


def is_map_text(text: str) -> bool:
    """The text shown with the emotion curve once every stage is rated (the `map` reply), in any language."""
    import prompts

    return any(prompts.say(lang, "messages", "map_ready") in text for lang in ("en", "nl"))


# -- the test channel ------------------------------------------------------------------------------
def seen_of(item: Outgoing) -> Seen:
    if isinstance(item, ReportItem):
        from bot.summary_text import report_text

        return Seen("report", text=report_text(item.report, item.lang))
    if isinstance(item, FileItem):
        return Seen("file", name=item.filename, data=item.data)
    if isinstance(item, ImageItem):
        return Seen("image", name=item.filename, data=item.data)
    assert isinstance(item, Reply)
    if item.type == "question":
        return Seen("question", text=item.text, step=item.step, choices=tuple(c.value for c in item.choices))
    return Seen("text", text=item.text, tone=item.type)


class TestChannelDriver(Driver):
    __test__ = False
    name = "test"

    def __init__(self, journeys: Journeys, user_id: str = "owner") -> None:
        self.channel = TestChannel(journeys, user_id=user_id)

    @staticmethod
    def _turn(items: list[Outgoing]) -> Turn:
        return Turn([seen_of(i) for i in items])

    async def start(self) -> Turn:
        from bot.events import Start

        return self._turn(await self.channel.apush(Start()))

    async def say(self, text: str) -> Turn:
        return self._turn(await self.channel.apush(text))

    async def tap(self, value: str) -> Turn:
        from bot.events import Choice

        question = self.channel.question
        assert question is not None and value in {c.value for c in question.choices}, (value, question)
        return self._turn(await self.channel.apush(Choice(value, question.step or "")))

    async def results(self, csv: str) -> Turn:
        return self._turn(await self.channel.apush(Command("results", csv)))


# -- the terminal (journeybot chat --jsonl as a subprocess) -----------------------------------------
class TerminalDriver(Driver):
    name = "terminal"

    def __init__(self, db_url: str, workdir: Path, user: str = "owner") -> None:
        self.workdir = workdir
        self.proc = start_chat(db_url, workdir / "exports", user)
        self._lines = LineReader(self.proc)

    def _line(self, deadline: float) -> str | None:
        return self._lines.next(deadline)

    def _read(self) -> Turn:
        """Lines until a question or a goodbye; a turn without either ends when the terminal falls quiet."""
        turn = Turn()
        line = self._line(time.monotonic() + 30)
        while line is not None:
            obj: dict[str, Any] = json.loads(line)
            turn.items.append(self._seen(obj))
            if obj["type"] in ("question", "forgotten"):
                break
            # a summary report, and the map shown once every stage is rated, are followed by a chart,
            # which takes a moment to draw
            drawing = (bool(turn.reports) or any(is_map_text(i.text) for i in turn.of("text"))) and not turn.images
            writing = any(i.text in WORKING for i in turn.of("text")) and not turn.reports  # the report is being written
            exporting = bool(turn.images or turn.of("file")) and not turn.markdown  # the map's PDF is drawn before the markdown
            line = self._line(time.monotonic() + (20 if drawing or writing or exporting else 2.0))  # quiet for 2 s: the turn is over (a loaded machine needs more than 0.6 s to start the summary)
        return turn

    def _seen(self, obj: dict[str, Any]) -> Seen:
        kind = obj["type"]
        if kind == "question":
            return Seen("question", text=obj["text"], step=obj["step"], choices=tuple(c["value"] for c in obj["choices"]))
        if kind == "summary":
            return Seen("report", text=obj["text"])
        if kind in ("export", "image"):
            path = Path(obj["path"])
            return Seen("file" if kind == "export" else "image", name=path.name, data=path.read_bytes())
        return Seen("text", text=obj["text"], tone=kind)

    def _type(self, line: str) -> Turn:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self._read()

    async def start(self) -> Turn:
        return self._read()

    async def say(self, text: str) -> Turn:
        return self._type(text)

    async def tap(self, value: str) -> Turn:
        return self._type(value)  # the terminal's way to pick a choice: type its value

    async def results(self, csv: str) -> Turn:
        path = self.workdir / "answers.csv"
        path.write_text(csv, encoding="utf-8")
        return self._type(f"/results {path}")

    async def close(self) -> None:
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            code = self.proc.wait(timeout=30)
        finally:
            stderr = self.proc.stderr.read() if self.proc.stderr else ""
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream:
                    stream.close()
        assert code == 0, f"terminal exited with {code}: {stderr[-2000:]}"
