"""The contract driver for Slack: the real slack-bolt app against the fake Web API, in a DM."""
from __future__ import annotations

import json
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

from devkit.fakes.slack_api import Call
from tests.contract.drivers import Driver, Seen, Turn
from tests.contract.telegram_driver import _report_span
from tests.slack_harness import Harness, start_harness, stop_harness

USER = "U7"


def _value(button: dict[str, Any]) -> dict[str, Any]:
    try:
        return json.loads(button.get("value") or "{}")
    except ValueError:
        return {}


class SlackDriver(Driver):
    name = "slack"

    def __init__(self, harness: Harness) -> None:
        self.h = harness
        self.question: Call | None = None

    async def _after(self, mark: int) -> Turn:
        await self.h.journeys.drain(30)  # the work runs after Slack's acknowledgement ...
        await self.h.slack.wait_idle(quiet=0.3, timeout=30)  # ... and everything it sent has arrived
        items: list[Seen] = []
        dm = f"D{USER}"
        for call in self.h.slack.since(mark):
            if call.method == "chat.postMessage" and call.channel == dm:
                if call.buttons():
                    self.question = call
                    values = [_value(b) for b in call.buttons()]
                    items.append(Seen("question", text=call.all_text(), step=values[0].get("s"), choices=tuple(str(v.get("v")) for v in values)))
                else:
                    text = call.all_text()
                    items.append(Seen("text", text=text, tone="error" if text.lstrip().startswith((":warning:", "⚠️")) else None))
            elif call.method == "files.completeUploadExternal":
                files = call.params.get("files")
                files = json.loads(files) if isinstance(files, str) else files or []
                for entry in files:
                    upload = self.h.slack.uploads.get(entry["id"])
                    if upload is None or upload.data is None:
                        continue
                    kind = "image" if Path(upload.filename).suffix.lower() in (".png", ".jpg") else "file"
                    items.append(Seen(kind, name=upload.filename, data=upload.data))
        return Turn(_report_span(items))

    async def start(self) -> Turn:
        return await self.say("/journey")

    async def say(self, text: str) -> Turn:
        mark = self.h.slack.mark()
        if text.startswith("/"):
            # in Slack the commands are the subcommands of /journey, typed in the DM with the bot
            sub = "" if text == "/journey" else text[1:]
            await self.h.signer.command(USER, sub, channel_id=f"D{USER}")
        else:
            await self.h.signer.dm(USER, text)
        return await self._after(mark)

    async def tap(self, value: str) -> Turn:
        assert self.question is not None, "no question with buttons on screen"
        mark = self.h.slack.mark()
        await self.h.tap(USER, self.question, value)
        return await self._after(mark)

    async def results(self, csv: str) -> Turn:
        mark = self.h.slack.mark()
        entry = self.h.slack.add_user_file(csv.encode("utf-8"), "answers.csv")
        await self.h.signer.dm(USER, "", files=[entry])
        return await self._after(mark)


@asynccontextmanager
async def slack_driver(tmp_path: Path) -> AsyncIterator[SlackDriver]:
    harness, runner = await start_harness(tmp_path)
    harness.slack.add_user(USER, locale="")
    try:
        yield SlackDriver(harness)
    finally:
        await stop_harness(harness, runner)
        harness.app.close()
