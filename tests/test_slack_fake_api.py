"""The fake Slack Web API answers the real slack_sdk client the way Slack does."""
from __future__ import annotations

import os

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from devkit.fakes.slack_api import BOT_TOKEN, FakeSlack, sign

for _name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_name, None)


async def test_messages_updates_and_uploads_through_the_real_client() -> None:
    async with FakeSlack() as slack:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
        auth = await client.auth_test()
        assert auth["team_id"] == slack.team_id
        opened = await client.conversations_open(users="U1")
        channel = opened["channel"]["id"]
        posted = await client.chat_postMessage(channel=channel, text="hi", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}])
        await client.chat_update(channel=channel, ts=posted["ts"], text="edited", blocks=[])
        assert slack.message(channel, posted["ts"])["text"] == "edited"
        result = await client.files_upload_v2(channel=channel, filename="journey.md", content="# Journey\n", title="Journey")
        assert result["file"]["name"] == "journey.md"
        [upload] = slack.completed_uploads(channel)
        assert upload.data == b"# Journey\n"
        slack.add_user("U1", locale="nl-NL")
        info = await client.users_info(user="U1", include_locale=True)
        assert info["user"]["locale"] == "nl-NL"


async def test_limits_failures_and_bad_tokens() -> None:
    async with FakeSlack() as slack:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
        too_many = [{"type": "divider"}] * 51
        with pytest.raises(SlackApiError) as err:
            await client.chat_postMessage(channel="C1", text="x", blocks=too_many)
        assert err.value.response["error"] == "invalid_blocks"
        long_section = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
        with pytest.raises(SlackApiError):
            await client.chat_postMessage(channel="C1", text="x", blocks=long_section)
        slack.fail("chat.postMessage", "channel_not_found")
        with pytest.raises(SlackApiError):
            await client.chat_postMessage(channel="C1", text="x")
        assert (await client.chat_postMessage(channel="C1", text="x"))["ok"]
        bad = AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url)
        with pytest.raises(SlackApiError):
            await bad.auth_test()
        assert len(slack.calls_of("chat.postMessage")) == 4


def test_signature_matches_slack_example() -> None:
    # The example from Slack's "verifying requests" documentation.
    body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    assert sign("8f742231b10e8888abcd99yyyzzz85a5", "1531420618", body) == expected
