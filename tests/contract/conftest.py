"""The channel under test: every contract test runs once per channel, the channel's name in its id."""
from __future__ import annotations

from datetime import date
from typing import AsyncIterator

import pytest

from app import Journeys
from store.repository import Store
from tests.contract.drivers import Driver, TerminalDriver, TestChannelDriver

CHANNELS = ["test", "terminal", "telegram", "slack"]


@pytest.fixture(params=CHANNELS)
async def driver(request, tmp_path) -> AsyncIterator[Driver]:
    url = f"sqlite:///{tmp_path / 'journeybot.db'}"
    name = request.param
    if name == "test":
        journeys = Journeys(Store.open(url), today=date.today)
        yield TestChannelDriver(journeys)
        journeys.close()
    elif name == "terminal":
        terminal = TerminalDriver(url, tmp_path)
        yield terminal
        await terminal.close()
    elif name == "telegram":
        from tests.contract.telegram_driver import telegram_driver

        async with telegram_driver(url) as telegram:
            yield telegram
    else:
        from tests.contract.slack_driver import slack_driver

        async with slack_driver(tmp_path) as slack:
            yield slack
