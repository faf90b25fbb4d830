"""The Slack adapter: slash command, DM interview, buttons, team journeys, files. See app.py."""
