"""`/journey` typed in a direct message between two people is not the bot's DM: the bot cannot post
there, so the interview goes to the owner's own DM with the bot and that is where it stays."""
from __future__ import annotations

import pytest

from tests.slack_harness import Harness, start_harness, stop_harness

OTHER_DM = "D0PEOPLE"  # a DM between U1 and a colleague, where the bot is no member


@pytest.fixture
async def h(tmp_path):
    harness, runner = await start_harness(tmp_path)
    yield harness
    await stop_harness(harness, runner)


async def test_a_command_in_a_dm_between_two_people_answers_in_the_bots_own_dm(h: Harness) -> None:
    mark = h.slack.mark()
    sent = await h.signer.command("U1", "", channel_id=OTHER_DM, response_url=h.slack.response_url("cmd"))
    assert sent.status == 200
    question = await h.next_question("U1", mark)  # the language question, in the bot's DM with U1
    assert question.channel == "DU1"
    assert not [c for c in h.slack.since(mark, "chat.postMessage") if c.channel == OTHER_DM]
    # a later informing command from a normal channel still reaches the bot's DM, not the people's DM
    mark = h.slack.mark()
    await h.signer.command("U1", "status", channel_id="C0GENERAL", response_url=h.slack.response_url("status"))
    await h.journeys.drain()
    assert not [c for c in h.slack.since(mark, "chat.postMessage") if c.channel == OTHER_DM]
