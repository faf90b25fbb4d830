"""Logging for every channel: one format, and secrets from the environment never reach a log line."""
from __future__ import annotations

import logging
import os
from typing import Mapping

SECRET_VARIABLES = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "OPENAI_API_KEY",
)
MASK = "***"


class RedactSecrets(logging.Filter):
    """Replaces the values of the secret variables in a record's final message (e.g. a bot token in a URL)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__()
        env = os.environ if env is None else env
        # longer secrets first, so one that contains another is masked whole
        self.secrets = sorted({env[name] for name in SECRET_VARIABLES if len(env.get(name, "")) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in self.secrets:
            redacted = redacted.replace(secret, MASK)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure(level: str | None = None, env: Mapping[str, str] | None = None) -> None:
    env = os.environ if env is None else env
    logging.basicConfig(
        level=(level or env.get("JOURNEYBOT_LOG_LEVEL", "WARNING")).upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    redact = RedactSecrets(env)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
