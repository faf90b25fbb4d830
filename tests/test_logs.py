"""Secrets from the environment never reach a log line: raw or URL-encoded, in the message, its
arguments, a traceback or a stack, on the handlers `configure()` sets up and on handlers added later."""
from __future__ import annotations

import io
import logging
from urllib.parse import quote, quote_plus

import pytest

from handlers import logs

TOKEN = "123456:ABCdefSECRET_x-y"
KEY = "sk-test-abcdef123"
PASSWORD = "p@ss w:rd/S3cret"
ENV = {
    "TELEGRAM_BOT_TOKEN": TOKEN,
    "OPENAI_API_KEY": KEY,
    "SLACK_BOT_TOKEN": "",
    "DATABASE_URL": f"postgresql://bob:{quote(PASSWORD, safe='')}@db.internal/journeybot",
}


def forms(secret: str) -> list[str]:
    """Every way a secret is written in a URL, a form body or a log line."""
    return sorted(
        {
            secret,
            quote(secret),
            quote(secret, safe=""),
            quote_plus(secret),
            quote_plus(secret, safe=""),
            quote(secret, safe="").replace("%3A", "%3a").replace("%40", "%40"),
            quote(quote(secret, safe=""), safe=""),  # encoded twice
        }
    )


SECRET_FORMS = forms(TOKEN) + forms(KEY) + forms(PASSWORD)


def leaks(text: str) -> list[str]:
    return [f for f in SECRET_FORMS if f in text]


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


def test_every_encoded_form_of_every_secret_is_masked() -> None:
    assert logs.secrets_in(ENV) == sorted([TOKEN, KEY, PASSWORD, quote(PASSWORD, safe="")], key=lambda s: (-len(s), s))
    for form in SECRET_FORMS:
        assert logs.redact(f"GET /bot{form}/getFile", ENV) == "GET /bot***/getFile", form
    assert logs.redact(ENV["DATABASE_URL"], ENV) == "postgresql://bob:***@db.internal/journeybot"
    assert logs.redact("nothing secret, 123456 and ABCdef", ENV) == "nothing secret, 123456 and ABCdef"


def test_short_values_are_not_taken_for_secrets() -> None:
    assert logs.secrets_in({"TELEGRAM_WEBHOOK_SECRET": "abc", "DATABASE_URL": "postgresql://u:pw@h/db"}) == []


def test_the_formatter_masks_message_arguments_traceback_and_stack() -> None:
    formatter = logs.RedactingFormatter(env=ENV)
    logger = logging.getLogger("journeybot.test.formatter")
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected; url /bot{quote(TOKEN, safe='')}/getMe")
    except RuntimeError as exc:
        record = logger.makeRecord(logger.name, logging.ERROR, __file__, 1, "failed with %s and %r", (KEY, quote_plus(PASSWORD)), (type(exc), exc, exc.__traceback__))
    record.stack_info = f"Stack (most recent call last):\n  File x, in {TOKEN}"
    text = formatter.format(record)
    assert "Traceback" in text and "RuntimeError" in text and "Stack" in text
    assert leaks(text) == [] and text.count("***") >= 5
    assert leaks(record.exc_text or "") == []  # the cached traceback other handlers reuse is masked too


def test_configure_masks_every_root_handler_and_records_for_handlers_added_later(secret_env: None) -> None:
    root = logging.getLogger()
    stream = io.StringIO()
    ours = logging.StreamHandler(stream)
    root.addHandler(ours)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        logs.configure("INFO")
        assert isinstance(ours.formatter, logs.RedactingFormatter)
        later_stream = io.StringIO()
        later = logging.StreamHandler(later_stream)  # a handler a library adds after start-up, plain formatter
        later.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        root.addHandler(later)
        log = logging.getLogger("httpx")
        log.info('HTTP Request: %s %s "%s"', "GET", f"http://127.0.0.1/file/bot{quote(TOKEN, safe='')}/documents/a.csv", "HTTP/1.1 200 OK")
        try:
            raise ValueError(f"bad key {KEY}")
        except ValueError:
            logging.getLogger("journeybot.test").exception("failed for %s", quote_plus(PASSWORD))
        logging.getLogger("journeybot.test").warning("where", stack_info=True, extra={"x": TOKEN})
    finally:
        root.setLevel(level)
        root.removeHandler(ours)
        root.removeHandler(later)
    for text in (stream.getvalue(), later_stream.getvalue()):
        assert "HTTP Request: GET http://127.0.0.1/file/bot***/documents/a.csv" in text
        assert "ValueError: bad key ***" in text and "failed for ***" in text
        assert leaks(text) == [], leaks(text)


def test_a_secret_set_after_configure_is_masked_too(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    logs.configure()
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A0B1C2-late")
    with caplog.at_level(logging.INFO, logger="journeybot.test.late"):
        logging.getLogger("journeybot.test.late").info("connecting with %s", "xapp-1-A0B1C2-late")
    assert "connecting with ***" in caplog.text and "xapp-1-A0B1C2-late" not in caplog.text
