from slack_bolt.async_app import AsyncApp

from handlers.slack.core import SlackJourneys
from handlers.slack.listeners.events import message_im


def register(app: AsyncApp, journeys: SlackJourneys) -> None:
    message_im.register(app, journeys)
