"""`journeybot telegram` as a user runs it: a real process, long polling the fake Bot API."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from devkit.fakes.telegram_api import FakeTelegram, command

JOURNEYBOT = Path(sys.executable).with_name("journeybot")


def test_journeybot_telegram_polls_answers_and_stops_cleanly(tmp_path: Path) -> None:
    tg = FakeTelegram.run_in_thread()
    try:
        tg.call_soon(tg.push, command("start", language_code="nl"))
        env = dict(
            os.environ,
            TELEGRAM_BOT_TOKEN=tg.token,
            TELEGRAM_API_URL=tg.url,
            DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}",
            JOURNEYBOT_LLM="off",
        )
        env.pop("TELEGRAM_WEBHOOK_URL", None)
        proc = subprocess.Popen([str(JOURNEYBOT), "telegram"], env=env)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not [c for c in list(tg.calls) if c.method == "sendMessage" and c.reply_markup]:
                assert proc.poll() is None, "the bot exited early"
                time.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGINT)
            assert proc.wait(20) == 0
        question = [c for c in list(tg.calls) if c.method == "sendMessage" and c.reply_markup][0]
        assert question.chat_id == 4242 and "bedrijf" in question.text
        assert sorted(tg.commands) == ["", "en", "nl"]
    finally:
        tg.shutdown()
