"""The contract driver for Telegram: the real python-telegram-bot adapter against the fake Bot API."""
from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import date
from typing import AsyncIterator

from app import Journeys
from devkit.fakes.telegram_api import Call, FakeTelegram, callback, command, document, private_text, visible_text
from devkit.fakes.telegram_harness import TelegramHarness
from store.repository import Store
from tests.contract.drivers import Driver, Seen, Turn

USER = 4242


def is_label(callback_data: str) -> bool:
    """A button that only names a row (a touchpoint above its ratings 1..5): not a choice."""
    from handlers.telegram.render import LABEL_PREFIX

    return callback_data.startswith(LABEL_PREFIX + "|")


def _report_span(items: list[Seen]) -> list[Seen]:
    """Telegram shows the report as text messages between the 'working' notice (…) and the markdown file."""
    out = list(items)
    for n, item in enumerate(out):
        if item.kind == "file" and item.name.endswith(".md"):
            k = n - 1
            while k >= 0 and out[k].kind == "text" and not out[k].text.rstrip().endswith("…"):
                out[k] = Seen("report", text=out[k].text)
                k -= 1
            break
    return out


class TelegramDriver(Driver):
    name = "telegram"

    def __init__(self, fake: FakeTelegram, harness: TelegramHarness) -> None:
        self.fake = fake
        self.harness = harness
        self.question: Call | None = None

    async def _send(self, update: dict) -> Turn:
        mark = self.fake.mark()
        await self.harness.send(update, timeout=30)  # handled by the adapter ...
        await self.fake.wait_idle(quiet=0.3, timeout=30)  # ... and everything it sends has arrived
        calls = [c for c in self.fake.calls[mark:] if c.method != "getUpdates"]
        items: list[Seen] = []
        for call in calls:
            if call.method == "sendMessage":
                if call.buttons():
                    self.question = call
                    data = [d for d in (b.get("callback_data", "") for b in call.buttons()) if not is_label(d)]
                    step = data[0].split("|")[1] if data and "|" in data[0] else None
                    items.append(Seen("question", text=visible_text(call.text), step=step, choices=tuple(d.split("|")[-1] for d in data)))
                else:
                    text = visible_text(call.text)
                    items.append(Seen("text", text=text, tone="error" if text.startswith("⚠️") else None))
            elif call.method == "sendDocument":
                upload = call.files.get("document")
                items.append(Seen("file", name=upload.filename if upload else "", data=upload.data if upload else b""))
            elif call.method == "sendPhoto":
                upload = call.files.get("photo")
                items.append(Seen("image", name=upload.filename if upload else "", data=upload.data if upload else b""))
        return Turn(_report_span(items))

    async def start(self) -> Turn:
        return await self._send(command("start", user_id=USER, language_code=None))

    async def say(self, text: str) -> Turn:
        if text.startswith("/"):
            name, _, arg = text[1:].partition(" ")
            return await self._send(command(name, arg, user_id=USER, language_code=None))
        return await self._send(private_text(text, user_id=USER, language_code=None))

    async def tap(self, value: str) -> Turn:
        question = self.question
        assert question is not None, "no question with buttons on screen"
        for button in question.buttons():
            data = button.get("callback_data", "")
            if data.split("|")[-1] == value and not is_label(data):
                message = self.fake.message(question.chat_id, question.result["message_id"])
                return await self._send(callback(data, message, user_id=USER, language_code=None))
        raise AssertionError(f"no button {value!r} in {[b.get('callback_data') for b in question.buttons()]}")

    async def results(self, csv: str) -> Turn:
        data = csv.encode("utf-8")
        file_id = self.fake.add_download(data, "answers.csv")
        return await self._send(document(file_id, "answers.csv", len(data), user_id=USER, language_code=None))


@asynccontextmanager
async def telegram_driver(url: str) -> AsyncIterator[TelegramDriver]:
    journeys = Journeys(Store.open(url), today=date.today)
    fake = FakeTelegram()
    await fake.start()
    harness = TelegramHarness(fake, journeys)
    await harness.start()
    try:
        yield TelegramDriver(fake, harness)
    finally:
        await harness.stop()
        await fake.stop()
        journeys.close()
