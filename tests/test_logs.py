"""Secrets from the environment never reach a log line."""
from __future__ import annotations

import logging

from handlers.logs import RedactSecrets


def test_tokens_in_log_messages_are_masked(caplog):
    env = {"TELEGRAM_BOT_TOKEN": "123456:ABCdefSECRET", "OPENAI_API_KEY": "sk-test-abcdef123", "SLACK_BOT_TOKEN": ""}
    logger = logging.getLogger("journeybot.test.redact")
    caplog.handler.addFilter(RedactSecrets(env))
    with caplog.at_level(logging.INFO, logger="journeybot.test.redact"):
        logger.info('HTTP Request: POST http://127.0.0.1/bot%s/getUpdates "HTTP/1.1 200 OK"', "123456:ABCdefSECRET")
        logger.warning("key %s failed", "sk-test-abcdef123")
        logger.info("nothing secret here")
    text = caplog.text
    assert "ABCdefSECRET" not in text and "sk-test-abcdef123" not in text
    assert "/bot***/getUpdates" in text and "key *** failed" in text and "nothing secret here" in text
