"""Pytest fixtures around the fake Telegram Bot API server.

Import them into a test module (`from devkit.fakes.telegram_fixtures import fake_telegram`)
or list the module in a root conftest's `pytest_plugins`.
"""
from __future__ import annotations

from typing import AsyncIterator

import pytest_asyncio

from devkit.fakes.telegram_api import FakeTelegram


@pytest_asyncio.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """A started fake Bot API server on a random loopback port, in the test's event loop."""
    server = FakeTelegram()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
