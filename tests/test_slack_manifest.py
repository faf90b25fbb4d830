"""slack/manifest.yml creates an app that matches what the adapter does."""
from __future__ import annotations

from pathlib import Path

import yaml

from handlers.slack.app import PATH

MANIFEST = Path(__file__).resolve().parents[1] / "slack" / "manifest.yml"


def test_manifest_matches_the_adapter() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/journey" and command["should_escape"] is True
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["bot_events"] == ["message.im", "app_home_opened"]
    assert settings["interactivity"]["is_enabled"] is True
    for url in (command["url"], settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"]):
        assert url.startswith("https://") and url.endswith(PATH)
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # one scope per Web API method the adapter calls
    needed = {"commands", "chat:write", "im:history", "im:write", "files:write", "files:read", "users:read", "channels:read", "groups:read"}
    assert needed <= scopes
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_read_only_enabled"] is False
    # the Home tab lists the owner's journeys (events/app_home.py); its map pictures are private uploads
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
