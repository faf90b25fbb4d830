from slack_bolt.async_app import AsyncApp

from handlers.slack.core import SlackJourneys
from handlers.slack.listeners.commands import journey


def register(app: AsyncApp, journeys: SlackJourneys) -> None:
    journey.register(app, journeys)
