"""`journeybot telegram` killed with SIGKILL at random moments while owners are answering, on SQLite
and on PostgreSQL, against the fake Bot API in this process.

Three owners go through a whole interview at once, each answer unique, and behave as people do: they
answer the latest question they see, and when no reply comes they send the same text again. After
every kill a new process starts (Telegram hands it the updates the dead one never confirmed). At the
end every owner's answer log must equal the reference run's: nothing acknowledged lost, nothing
stored twice, nothing stored under another question; and each owner has seen the current question.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from app import Journeys, OwnerKey
from bot.events import Start, Text, same_step
from store.db import database_url
from store.models import Conversation, OutboxItem, Owner
from store.repository import Store
from devkit.fakes.telegram_api import Call, FakeTelegram
from tests.scale_support import answer_log, interview_answers

pytestmark = pytest.mark.timeout(420)
KILLS = int(os.environ.get("JB_KILLS", "16"))  # per database: 32 in all
OWNERS = (501, 502, 503)
PATIENCE = 2.0  # seconds an owner waits for a reply before sending the same text again
ROOT = Path(__file__).resolve().parents[1]


def script() -> list[str]:
    texts, unknowns = interview_answers()
    return texts + unknowns


def reference(tmp_path: Path) -> tuple[list[tuple[str, str]], list[str | None]]:
    """The script typed once in-process: the answer log, and the step asked before each line."""
    journeys = Journeys(Store.open(f"sqlite:///{tmp_path / 'reference.db'}"))
    owner = OwnerKey("telegram", "", "reference")
    asked = [journeys.handle(owner, Start(lang_hint="en"))[-1].step]
    for line in script():
        questions = [r for r in journeys.handle(owner, Text(line)) if r.type == "question"]
        asked.append(questions[-1].step if questions else None)
    journeys.close()
    return log_of(f"sqlite:///{tmp_path / 'reference.db'}", "reference"), asked


log_of = answer_log  # tests/test_multi_worker.py imports it under this name


def step_of(call: Call) -> str | None:
    for button in call.buttons():
        parts = str(button.get("callback_data", "")).split("|")
        if len(parts) >= 2:
            return parts[1]
    return None


def _is(shown: str | None, key: str | None) -> bool:
    return shown is not None and key is not None and same_step(shown, key)


@dataclass
class Person:
    """An owner at their phone: answers the latest question, re-sends when nothing comes back."""

    user_id: int
    lines: list[str]
    asked: list[str | None]
    position: int = 0  # the line being answered
    last_id: int = 0  # message id of the owner's last message
    sent_at: float = 0.0
    resends: int = 0
    thinks_until: float = 0.0
    rng: random.Random = field(default_factory=random.Random)
    confused: list[str] = field(default_factory=list)

    def waiting(self, fake: FakeTelegram) -> bool:
        """Sent an answer and saw no question after it yet: the answer is in flight."""
        return not self.done and bool(self.last_id) and self.latest_question(fake) is None

    @property
    def done(self) -> bool:
        return self.position >= len(self.lines)

    def latest_question(self, fake: FakeTelegram) -> Call | None:
        for call in reversed(list(fake.calls)):
            if call.method == "sendMessage" and call.status == 200 and str(call.chat_id) == str(self.user_id) and call.buttons():
                if isinstance(call.result, dict) and call.result.get("message_id", 0) > self.last_id:
                    return call
                return None
        return None

    def act(self, fake: FakeTelegram, now: float) -> None:
        if self.done:
            return
        question = self.latest_question(fake)
        if question is not None:
            step = step_of(question)
            if _is(step, self.asked[self.position + 1]):
                self.position += 1  # the answer was taken: on to the next line
            elif not _is(step, self.asked[self.position]):
                self.confused.append(f"line {self.position}: expected {self.asked[self.position]} or {self.asked[self.position + 1]}, saw {step}")
            if self.done:
                return
            if not self.thinks_until:
                self.thinks_until = now + self.rng.uniform(0.3, 2.5)  # reading and typing
            if now >= self.thinks_until:
                self.say(fake, now)
        elif self.last_id and self.position == len(self.lines) - 1 and self.finished(fake):
            self.position += 1
        elif now - self.sent_at > PATIENCE:
            if self.last_id:
                self.resends += 1
            self.say(fake, now)

    def finished(self, fake: FakeTelegram) -> bool:
        """The last answer's reply: the summary's document came after it."""
        return any(
            c.method == "sendDocument" and c.status == 200 and str(c.chat_id) == str(self.user_id) and c.result.get("message_id", 0) > self.last_id
            for c in list(fake.calls)
        )

    def say(self, fake: FakeTelegram, now: float) -> None:
        update = fake.user_text(self.lines[self.position], user_id=self.user_id)
        self.last_id = update["message"]["message_id"]
        self.sent_at = now
        self.thinks_until = 0.0
        fake.call_soon(fake.push, update)


class BotProcess:
    def __init__(self, fake: FakeTelegram, url: str, log: Path) -> None:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_URL": fake.url,
            "DATABASE_URL": url,
            "JOURNEYBOT_LLM": "off",
            "JOURNEYBOT_OUTBOX_INTERVAL": "0.5",
            "JOURNEYBOT_REMINDER_INTERVAL": "0",
            "PYTHONPATH": str(ROOT),
        }
        self.log = log.open("ab")
        self.process = subprocess.Popen([sys.executable, "-c", "from handlers.cli import main; raise SystemExit(main(['telegram']))"], env=env, cwd=ROOT, stdout=self.log, stderr=self.log)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.log.close()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def run(url: str, tmp_path: Path, seed: int) -> None:
    expected, asked = reference(tmp_path)
    assert all(a != b for a, b in zip(asked, asked[1:])), "the owner model needs every answer to move the interview on"
    rng = random.Random(seed)
    fake = FakeTelegram.run_in_thread()
    people = [Person(u, script(), asked, rng=random.Random(seed + u)) for u in OWNERS]
    try:
        for person in people:  # /start by each owner, as a typed command
            update = fake.user_text("/start", user_id=person.user_id)
            update["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 6}]
            fake.call_soon(fake.push, update)
        bot = BotProcess(fake, url, tmp_path / "bot.log")
        kills = in_flight = 0
        deadline = time.monotonic() + 360
        started = fake.mark()
        next_kill = float("inf")
        while not all(p.done for p in people):
            assert time.monotonic() < deadline, [(p.user_id, p.position, p.confused) for p in people]
            now = time.monotonic()
            said = False
            for person in people:
                before = person.last_id
                person.act(fake, now)
                said = said or person.last_id != before
            # Most kills land just after an owner sent something (before the turn commits, between
            # commit and reply, or between reply and its receipt); the others at any moment.
            if next_kill == float("inf") and any(c.method == "getUpdates" for c in fake.calls[started:]):
                next_kill = now + rng.uniform(0.3, 2.0)  # the new process is polling: it works a while
            if kills < KILLS and now >= next_kill and (said or kills % 4 == 3):
                if said:
                    time.sleep(rng.uniform(0.0, 0.025))
                in_flight += sum(p.waiting(fake) for p in people)
                bot.kill()
                kills += 1
                started = fake.mark()
                bot = BotProcess(fake, url, tmp_path / "bot.log")
                next_kill = float("inf")
            time.sleep(0.05)
        time.sleep(1.0)
        bot.stop()
    finally:
        fake.shutdown()
    assert kills == KILLS
    assert in_flight >= 2, f"only {in_flight} answers were in flight at {kills} kills"
    for person in people:
        assert not person.confused, person.confused
        assert log_of(url, str(person.user_id)) == expected, f"owner {person.user_id}: an answer was lost, doubled or misfiled"
    engine = create_engine(database_url({"DATABASE_URL": url}))
    with engine.connect() as conn:
        pending = conn.execute(select(OutboxItem.id).where(OutboxItem.status == "pending")).all()
        finished = conn.execute(select(Conversation.state).join(Owner).where(Owner.user_id.in_([str(u) for u in OWNERS]))).all()
    engine.dispose()
    assert pending == []  # every reply was delivered in the end
    assert len(finished) == len(OWNERS)
    print(f"{kills} kills, {in_flight} answers in flight at them; re-sends by the owners: {[p.resends for p in people]}")


def test_sigkills_on_sqlite_lose_double_and_misfile_nothing(tmp_path: Path) -> None:
    run(f"sqlite:///{tmp_path / 'bot.db'}", tmp_path, seed=13)


def test_sigkills_on_postgresql_lose_double_and_misfile_nothing(pg_url: str, tmp_path: Path) -> None:
    run(pg_url, tmp_path, seed=29)
