"""Listeners by kind, as in the bolt-python starter template: commands/, events/, actions/."""
from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.slack.core import SlackJourneys
from handlers.slack.listeners import actions, commands, events
from handlers.slack.listeners.actions import home as home_buttons
from handlers.slack.listeners.events import app_home


def register_listeners(app: AsyncApp, journeys: SlackJourneys) -> None:
    commands.register(app, journeys)
    events.register(app, journeys)
    actions.register(app, journeys)
    home_buttons.register(app, app_home.register(app, journeys))  # the App Home tab and its buttons
