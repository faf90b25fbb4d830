"""Listeners by kind, as in the bolt-python starter template: commands/, events/, actions/."""
from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.slack.core import SlackJourneys
from handlers.slack.listeners import actions, commands, events


def register_listeners(app: AsyncApp, journeys: SlackJourneys) -> None:
    commands.register(app, journeys)
    events.register(app, journeys)
    actions.register(app, journeys)
