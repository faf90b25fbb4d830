"""The terminal channel: the embedded default, interactive with rich, or line by line with --jsonl.

The terminal prints text and nothing else: owner answers and model output may hold control
characters, and a terminal obeys them (ESC starts CSI and OSC sequences that change colours, clear
the screen, set the window title or write the clipboard with OSC 52; BEL rings, backspace and a
carriage return overwrite what was shown; U+009B is CSI on its own). With rich they are shown as
symbols (␛ ␇ ␈ ␍; C1 controls as \\x9b); in --jsonl the exact text stays in the JSON, with
every control character escaped. A line of input that is not valid text in the terminal's
encoding gets a message and the question again, never a crash.
"""
from __future__ import annotations

import asyncio
import getpass
import json
import os
import re
import sys
import uuid
from pathlib import Path
from typing import Any, TextIO

from typing import TYPE_CHECKING

import prompts
from app import Journeys, OwnerKey
from app.outgoing import FileItem, ImageItem, Outgoing, ReportItem
from bot.vocabulary import DONE, DONT_KNOW, KEEP, SHOW, SKIP
from bot.events import Choice, Command, Event, Start, parse_input
from bot.replies import Reply

if TYPE_CHECKING:  # rich is only loaded for the interactive terminal, not for --jsonl
    from rich.console import Console


# What a terminal obeys instead of showing: C0 controls but tab and line feed, DEL, the C1 controls,
# and lone surrogates (undecodable input; no encoder takes them). "\r\n" is a plain line break.
_UNPRINTABLE = re.compile("\r\n|[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# What json.dumps(ensure_ascii=False) leaves raw although it is no plain text.
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char[0])
    if char == "\r\n":
        return "\n"
    if code < 0x20:
        return chr(0x2400 + code)  # the control pictures: ␛ ␇ ␈ ␍ ...
    if code == 0x7F:
        return "\u2421"  # ␡
    if code <= 0x9F:
        return f"\\x{code:02x}"
    return "\ufffd"


def printable(text: str) -> str:
    """`text` as a terminal shows it rather than obeys it: every control character but tab and line
    feed as a visible symbol (␛ ␇ ␈ ␍, C1 controls as \\x9b), a lone surrogate as �."""
    return _UNPRINTABLE.sub(_shown, text)


def json_line(obj: Any) -> str:
    """One JSON line with the exact texts, and no raw control character (json.dumps escapes C0 but
    leaves DEL, the C1 controls, U+2028/U+2029 and lone surrogates as they are)."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(obj, ensure_ascii=False))


def RichText(text: str = "", *args: Any, **kwargs: Any) -> Any:
    from rich.text import Text

    return Text(printable(text), *args, **kwargs)


def _printable_console(**kwargs: Any) -> "Console":
    """A rich console that renders only printable text: the texts are made printable before they are
    laid out (RichText), and a render hook makes every rendered segment printable in case one was missed."""
    from rich.console import Console, RenderHook
    from rich.segment import Segment

    class Printable:
        def __init__(self, renderable: Any) -> None:
            self.renderable = renderable

        def __rich_console__(self, console: Console, options: Any) -> Any:
            for segment in console.render(self.renderable, options):
                if segment.control or not _UNPRINTABLE.search(segment.text):
                    yield segment
                else:
                    yield Segment(printable(segment.text), segment.style)

    class OnlyText(RenderHook):
        def process_renderables(self, renderables: list[Any]) -> list[Any]:
            return [Printable(r) for r in renderables]

    console = Console(**kwargs)
    console.push_render_hook(OnlyText())
    return console


def Panel(*args: Any, **kwargs: Any) -> Any:
    from rich.panel import Panel as RichPanel

    return RichPanel(*args, **kwargs)

EXTRA_VALUES = (DONT_KNOW, DONE, KEEP, SKIP)
_UNREADABLE: Any = "\udcff"  # read_line's answer for a line that is not text (a lone surrogate, as surrogateescape gives)


def terminal_owner(env: dict[str, str] | None = None) -> OwnerKey:
    env = dict(os.environ) if env is None else env
    user = env.get("JOURNEYBOT_USER") or _login_name()
    return OwnerKey(channel="terminal", workspace="local", user_id=user)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "owner"


class TerminalChat:
    def __init__(self, journeys: Journeys, owner: OwnerKey, *, jsonl: bool, stdin: TextIO, stdout: TextIO, export_dir: Path) -> None:
        self.journeys = journeys
        self.owner = owner
        self.jsonl = jsonl
        self.stdin = stdin
        self.stdout = stdout
        self.export_dir = export_dir
        self._console: Console | None = None
        self.question: Reply | None = None
        self.lang = "en"
        self.lang_known = False
        self.failed: tuple[Event, str] | None = None

    @property
    def console(self) -> "Console":
        if self._console is None:
            self._console = _printable_console(file=self.stdout, highlight=False, force_terminal=None if self.stdout.isatty() else False)
        return self._console

    def t(self, key: str, **values: Any) -> str:
        return prompts.say(self.lang, "terminal", key, **values)

    def run(self) -> int:
        try:
            return asyncio.run(self.main())
        except BrokenPipeError:  # the reader went away (`| head`): what was answered is stored
            return 0

    async def main(self) -> int:
        for reminder in self.journeys.reminders("terminal", owner=self.owner):
            try:
                self.render(Reply(type="info", text=reminder.text, lang=reminder.lang))
            except Exception:
                self.journeys.release(reminder)
                raise
        await self.send(Start(lang_hint=None))
        interactive = self.stdin.isatty() and not self.jsonl
        try:
            while True:
                line = self.read_interactive() if interactive else self.read_line()
                if line is None:
                    break
                if _SURROGATE.search(line):
                    self.unreadable()
                    continue
                await self.send(self.event_for(line))
        except (EOFError, KeyboardInterrupt):
            pass
        if not self.jsonl:
            self.console.print()
            self.console.print(RichText(self.t("bye"), style="dim"))
        return 0

    # -- reading ------------------------------------------------------------------
    @property
    def encoding(self) -> str:
        return getattr(self.stdin, "encoding", None) or "utf-8"

    def read_interactive(self) -> str:
        """A line typed at the prompt (rich and the terminal's line editing); EOFError at the end."""
        try:
            return self.console.input(f"[bold cyan]{self.t('prompt')}›[/] ")
        except UnicodeDecodeError:  # a strict decoder (a UTF-8 locale): the bad line is consumed
            return _UNREADABLE

    def read_line(self) -> str | None:
        """The next line of piped input, None at the end. Bytes are decoded here, line by line, so one
        undecodable line is reported and the next ones still read (a strict text reader would fail for
        good, a lenient one hand over surrogates no database or terminal takes)."""
        buffer = getattr(self.stdin, "buffer", None)
        if buffer is None:
            raw = self.stdin.readline()
            return None if raw == "" else raw.rstrip("\r\n")
        data = buffer.readline()
        if not data:
            return None
        try:
            return data.decode(self.encoding).rstrip("\r\n")
        except (UnicodeDecodeError, LookupError):
            return _UNREADABLE

    def unreadable(self) -> None:
        """A line that is not text: say so in the owner's language (both before one is known), and ask again."""
        if self.lang_known:
            text = self.t("unreadable", encoding=self.encoding.upper())
        else:
            text = " / ".join(prompts.say(lang, "terminal", "unreadable", encoding=self.encoding.upper()) for lang in ("en", "nl"))
        self.render(Reply(type="error", text=text, lang=self.lang))
        if self.question is not None:
            self.render(self.question)

    def event_for(self, line: str) -> Event:
        question = self.question
        if question is not None and question.step:
            values = {c.value for c in question.choices}
            if line.strip() in values and (line.strip() in EXTRA_VALUES or question.kind in ("single_choice", "scale")):
                return Choice(line.strip(), question.step)
        event = parse_input(line)
        if isinstance(event, Command) and event.name == "results" and event.arg and Path(event.arg).expanduser().is_file():
            # customers' survey answers from a CSV file on this machine
            return Command("results", Path(event.arg).expanduser().read_text(encoding="utf-8", errors="replace"))
        return event

    async def send(self, event: Event) -> None:
        # A line sent again right after "not saved" keeps its key: if the database did commit it
        # before the connection broke, the second try is recognised and not recorded twice.
        key = self.failed[1] if self.failed is not None and self.failed[0] == event else uuid.uuid4().hex
        # the terminal has no idea of the owner's language until the owner picked one
        shown = await self.show(event, dedup_key=f"terminal:{key}", lang_hint=self.lang if self.lang_known else None)
        self.failed = (event, key) if any(isinstance(i, Reply) and i.data.get("store_down") for i in shown) else None
        if not shown:  # already recorded on the earlier try: show where we are
            await self.show(Command(SHOW), dedup_key=None, lang_hint=self.lang)

    async def show(self, event: Event, *, dedup_key: str | None, lang_hint: str | None) -> list[Outgoing]:
        shown: list[Outgoing] = []
        async for item in self.journeys.turn(self.owner, event, dedup_key=dedup_key, lang_hint=lang_hint):
            if isinstance(item, Reply) and item.step != "meta.language" and not item.data.get("store_down"):
                self.lang, self.lang_known = item.lang, True
            self.render(item)
            shown.append(item)
        return shown

    # -- rendering ------------------------------------------------------------
    def render(self, item: Outgoing) -> None:
        if isinstance(item, ReportItem):
            self.render_report(item)
            return
        if isinstance(item, FileItem):
            self.render_file(item)
            return
        if isinstance(item, ImageItem):
            self.render_image(item)
            return
        reply = item
        if reply.type == "question":
            self.question = reply
        if reply.type == "forgotten":
            self.question = None
        if reply.data.get("working"):
            if not self.jsonl:  # the JSONL stream carries the summary itself, not the notice before it
                self.console.print(RichText(reply.text, style="dim"))
            return
        if self.jsonl:
            self.emit(reply.to_json())
            return
        self.render_rich(reply)

    def emit(self, obj: dict[str, Any]) -> None:
        self.stdout.write(json_line(obj) + "\n")
        self.stdout.flush()

    def render_rich(self, reply: Reply) -> None:
        if reply.type == "question" and reply.kind == "ratings" and reply.data.get("touchpoints"):
            self.render_ratings(reply)
            return
        body = RichText(reply.text)
        if reply.type == "question":
            options = [c for c in reply.choices if c.value not in EXTRA_VALUES]
            if reply.step and reply.step.startswith("meta."):
                options = list(reply.choices)
            for n, option in enumerate(options, start=1):
                body.append(f"\n  {n}. ", style="bold")
                body.append(printable(option.label))
            extras = [c.label for c in reply.choices if c.value in EXTRA_VALUES]
            if extras:
                body.append("\n" + printable(self.t("extras", extras=" · ".join(extras))), style="dim")
            title = self.progress_line(reply)
            self.console.print(Panel(body, title=title, title_align="left", border_style="cyan"))
        elif reply.type == "error":
            self.console.print(body, style="bold red")
        elif reply.type == "done":
            self.console.print(body, style="bold green")
        else:
            self.console.print(body)

    def render_ratings(self, reply: Reply) -> None:
        """A stage's ratings: the question, the numbered touchpoints with their rating so far, the
        scale, and how to answer by typing (one number per step, or 2=4 for one step)."""
        touchpoints = list(reply.data.get("touchpoints") or ())
        shown = {
            prompts.say(reply.lang, "messages", "ratings.line", index=tp.get("index"), touchpoint=tp.get("name"),
                        score="·" if tp.get("value") is None else tp.get("value"))
            for tp in touchpoints
        }
        body = RichText("\n".join(line for line in reply.text.split("\n") if line not in shown))
        labels = {str(s.get("value")): printable(str(s.get("label") or s.get("value"))) for s in reply.data.get("scale") or ()}
        width = max(len(printable(str(tp.get("name") or ""))) for tp in touchpoints)
        for tp in touchpoints:
            value = tp.get("value")
            body.append(f"\n  {tp.get('index')}. ", style="bold")
            body.append(printable(str(tp.get("name") or "")).ljust(width) + "  ")
            body.append(labels.get(str(value), str(value)) if value is not None else self.t("ratings_unrated"), style="bold" if value is not None else "dim")
        if labels:
            body.append("\n" + self.t("ratings_scale", scale=" · ".join(labels.values())), style="dim")
        body.append("\n" + self.t("ratings_hint"), style="bold")
        # Done is for buttons: typed numbers record the ratings at once
        extras = [c.label for c in reply.choices if c.value in EXTRA_VALUES and c.value != DONE]
        if extras:
            body.append("\n" + printable(self.t("extras", extras=" · ".join(extras))), style="dim")
        self.console.print(Panel(body, title=self.progress_line(reply), title_align="left", border_style="cyan"))

    def progress_line(self, reply: Reply) -> str | None:
        p = reply.progress
        if p is None:
            return None
        if p.stage_index:
            text = self.t("progress_stage", stage_index=p.stage_index, stage_count=p.stage_count, stage=p.stage_name, answered=p.answered, total=p.total)
        else:
            section = prompts.say(self.lang, "messages", f"sections.{p.section}")
            text = self.t("progress", section=section, answered=p.answered, total=p.total)
        filled = int(20 * p.answered / p.total) if p.total else 0
        return RichText(f"{'█' * filled}{'░' * (20 - filled)} {text}").markup

    def render_report(self, item: ReportItem) -> None:
        from bot.summary_text import report_text

        text = report_text(item.report, item.lang)
        if self.jsonl:
            self.emit({"type": "summary", "step": None, "kind": None, "text": text, "choices": [], "progress": None,
                       "journey_id": item.journey_id, "report": item.report.model_dump(mode="json")})
            return
        self.console.print(Panel(RichText(text), border_style="green"))

    def write(self, filename: str, data: bytes) -> Path:
        self.export_dir.mkdir(parents=True, exist_ok=True)
        path = self.export_dir / Path(filename).name
        path.write_bytes(data)
        return path

    def render_file(self, item: FileItem) -> None:
        path = self.write(item.filename, item.data)
        message = self.t("exported", path=str(path))
        if self.jsonl:
            self.emit({"type": "export", "step": None, "kind": None, "text": message, "choices": [], "progress": None,
                       "journey_id": item.journey_id, "path": str(path)})
            return
        self.console.print(RichText(message, style="green"))

    def render_image(self, item: ImageItem) -> None:
        path = self.write(item.filename, item.data)
        if self.jsonl:
            self.emit({"type": "image", "step": None, "kind": None, "text": str(path), "choices": [], "progress": None,
                       "journey_id": item.journey_id, "path": str(path)})
            return
        self.console.print(RichText(str(path), style="green"))


def run_chat(journeys: Journeys, *, jsonl: bool = False, stdin: TextIO | None = None, stdout: TextIO | None = None,
             export_dir: Path | None = None, owner: OwnerKey | None = None) -> int:
    chat = TerminalChat(
        journeys,
        owner or terminal_owner(),
        jsonl=jsonl,
        stdin=stdin or sys.stdin,
        stdout=stdout or sys.stdout,
        export_dir=export_dir or Path.cwd(),
    )
    return chat.run()
