from slack_bolt.async_app import AsyncApp

from handlers.slack.core import SlackJourneys


def register(app: AsyncApp, journeys: SlackJourneys) -> None:
    from handlers.slack.listeners.actions import answer, contribute

    answer.register(app, journeys)
    contribute.register(app, journeys)
