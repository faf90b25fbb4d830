"""The fake Bot API in a process of its own, for bench/telegram_throughput.py.

    python -m bench.fake_telegram_process USERS LINES

Queues USERS owners' /start and the B2B interview's first LINES-1 answers, then serves on a free
loopback port. Prints its root URL on one line and runs until its stdin is closed.
"""
from __future__ import annotations

import asyncio
import sys
from typing import Any

from devkit.fakes.telegram_api import FakeTelegram, command, private_text
from devkit.scripts import B2B_EN


def updates(users: int, lines: int) -> list[dict[str, Any]]:
    assert 1 <= lines <= len(B2B_EN), f"the B2B interview has {len(B2B_EN)} lines"
    out = []
    for n in range(lines):
        for user in range(users):
            uid = 100000 + user
            out.append(command("start", user_id=uid) if n == 0 else private_text(B2B_EN[n], user_id=uid))
    return out


async def main(users: int, lines: int) -> None:
    fake = FakeTelegram()
    await fake.start()
    for update in updates(users, lines):
        fake.push(update)
    print(fake.url, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the benchmark closes our stdin
    await fake.stop()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
