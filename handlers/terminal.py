"""The terminal channel: the embedded default, interactive with rich, or line by line with --jsonl."""
from __future__ import annotations

import asyncio
import getpass
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any, Callable, TextIO

from typing import TYPE_CHECKING

import prompts
from app import Journeys, OwnerKey
from app.outgoing import FileItem, ImageItem, Outgoing, ReportItem
from bot.vocabulary import DONE, DONT_KNOW, KEEP, SHOW, SKIP
from bot.events import Choice, Command, Event, Start, parse_input
from bot.replies import Reply

if TYPE_CHECKING:  # rich is only loaded for the interactive terminal, not for --jsonl
    from rich.console import Console


def RichText(*args: Any, **kwargs: Any) -> Any:
    from rich.text import Text

    return Text(*args, **kwargs)


def Panel(*args: Any, **kwargs: Any) -> Any:
    from rich.panel import Panel as RichPanel

    return RichPanel(*args, **kwargs)

EXTRA_VALUES = (DONT_KNOW, DONE, KEEP, SKIP)


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
            from rich.console import Console

            self._console = Console(file=self.stdout, highlight=False, force_terminal=None if self.stdout.isatty() else False)
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
                self.render(Reply(type="info", text=reminder.text, lang=reminder.claim.lang))
            except Exception:
                self.journeys.release(reminder)
                raise
        await self.send(Start(lang_hint=None))
        interactive = self.stdin.isatty() and not self.jsonl
        try:
            while True:
                if interactive:
                    line = self.console.input(f"[bold cyan]{self.t('prompt')}›[/] ")
                else:
                    raw = self.stdin.readline()
                    if raw == "":
                        break
                    line = raw.rstrip("\r\n")
                await self.send(self.event_for(line))
        except (EOFError, KeyboardInterrupt):
            pass
        if not self.jsonl:
            self.console.print()
            self.console.print(RichText(self.t("bye"), style="dim"))
        return 0

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
        self.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
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
                body.append(option.label)
            extras = [c.label for c in reply.choices if c.value in EXTRA_VALUES]
            if extras:
                body.append("\n" + self.t("extras", extras=" · ".join(extras)), style="dim")
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
        labels = {str(s.get("value")): str(s.get("label") or s.get("value")) for s in reply.data.get("scale") or ()}
        width = max(len(str(tp.get("name") or "")) for tp in touchpoints)
        for tp in touchpoints:
            value = tp.get("value")
            body.append(f"\n  {tp.get('index')}. ", style="bold")
            body.append(str(tp.get("name") or "").ljust(width) + "  ")
            body.append(labels.get(str(value), str(value)) if value is not None else self.t("ratings_unrated"), style="bold" if value is not None else "dim")
        if labels:
            body.append("\n" + self.t("ratings_scale", scale=" · ".join(labels.values())), style="dim")
        body.append("\n" + self.t("ratings_hint"), style="bold")
        # Done is for buttons: typed numbers record the ratings at once
        extras = [c.label for c in reply.choices if c.value in EXTRA_VALUES and c.value != DONE]
        if extras:
            body.append("\n" + self.t("extras", extras=" · ".join(extras)), style="dim")
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
