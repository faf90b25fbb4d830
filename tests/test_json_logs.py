"""JOURNEYBOT_LOG_FORMAT=json: every log line is one JSON object (time, level, logger, message, and the
exception when there is one), masked exactly like the text format: a secret in the message, in its
arguments, in a traceback, in a stack, raw or URL-encoded, and in an uncaught exception. The default
stays text."""
from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

from handlers import logs
from tests.test_logs import ENV, KEY, PASSWORD, TOKEN, leaks

ROOT = Path(__file__).resolve().parent.parent
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

SCRIPT = f"""
import logging
from urllib.parse import quote, quote_plus
from handlers import logs

logs.configure()
log = logging.getLogger("journeybot.test")
log.info("token in the message: {TOKEN}")
log.warning("token in the arguments: %s, key %r", {TOKEN!r}, {{"key": {KEY!r}}})
logging.getLogger("httpx").info('HTTP Request: %s %s "%s"', "POST", "http://127.0.0.1/bot" + quote({TOKEN!r}, safe="") + "/getMe", "HTTP/1.1 200 OK")
try:
    raise ValueError("rejected " + {TOKEN!r} + " with " + quote_plus({PASSWORD!r}))
except ValueError:
    log.exception("the call failed")
log.error("where", stack_info=True)
log.warning("quotes \\" and a newline\\n and ë stay one line")
raise RuntimeError("uncaught with " + {KEY!r})
"""


def run(format_: str | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **ENV, "JOURNEYBOT_LOG_LEVEL": "INFO", "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    env.pop("JOURNEYBOT_LOG_FORMAT", None)
    if format_ is not None:
        env["JOURNEYBOT_LOG_FORMAT"] = format_
    return subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=60)


def test_every_line_is_one_masked_json_object() -> None:
    done = run("json")
    assert done.returncode == 1  # the uncaught exception
    lines = done.stderr.splitlines()
    entries = [json.loads(line) for line in lines]  # every line is JSON, nothing else was written
    assert len(entries) == 7
    for entry in entries:
        assert set(entry) <= {"time", "level", "logger", "message", "exception", "stack"}
        assert TIME.match(entry["time"]), entry["time"]
    message, arguments, http, failed, stack, quoted, uncaught = entries
    assert (message["level"], message["logger"], message["message"]) == ("INFO", "journeybot.test", "token in the message: ***")
    assert arguments["message"] == "token in the arguments: ***, key {'key': '***'}" and arguments["level"] == "WARNING"
    assert http["message"] == 'HTTP Request: POST http://127.0.0.1/bot***/getMe "HTTP/1.1 200 OK"' and http["logger"] == "httpx"
    assert failed["message"] == "the call failed" and failed["level"] == "ERROR"
    assert failed["exception"].startswith("Traceback (most recent call last):") and failed["exception"].endswith("ValueError: rejected *** with ***")
    assert stack["stack"].startswith("Stack (most recent call last):") and "exception" not in stack
    assert quoted["message"] == 'quotes " and a newline\n and ë stay one line'
    assert uncaught["level"] == "CRITICAL" and uncaught["message"] == "RuntimeError: uncaught with ***"
    assert "Traceback" in uncaught["exception"]
    assert "exception" not in message and "stack" not in message
    assert leaks(done.stderr) == [] and leaks(json.dumps(entries, ensure_ascii=False)) == []


def test_the_default_stays_text_and_masked() -> None:
    for format_ in (None, "text", "TEXT", "yaml"):
        done = run(format_)
        assert done.returncode == 1
        assert "INFO journeybot.test: token in the message: ***" in done.stderr
        assert "ValueError: rejected *** with ***" in done.stderr and "RuntimeError: uncaught with ***" in done.stderr
        assert not done.stderr.lstrip().startswith("{")
        assert leaks(done.stderr) == []


def test_the_formatter_masks_on_its_own(monkeypatch) -> None:
    """Without the record factory's help (a record made by hand, the secrets only in the formatter's
    environment), message, arguments, traceback and stack are masked before they are encoded."""
    formatter = logs.JsonFormatter(env=ENV)
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected; url /bot{quote(TOKEN, safe='')}/getMe")
    except RuntimeError as exc:
        record = logging.LogRecord("journeybot.x", logging.ERROR, __file__, 1, "failed with %s and %r", (KEY, quote_plus(PASSWORD)), (type(exc), exc, exc.__traceback__))
    record.stack_info = f'Stack (most recent call last):\n  File "x", in {TOKEN}'
    line = formatter.format(record)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == "failed with *** and '***'"
    assert entry["exception"].endswith("RuntimeError: The token `***` was rejected; url /bot***/getMe")
    assert entry["stack"].endswith("in ***")
    assert leaks(line) == [] and leaks(record.exc_text or "") == []  # the cached traceback is masked too


def test_configure_puts_json_on_every_root_handler(monkeypatch) -> None:
    import io

    root = logging.getLogger()
    stream = io.StringIO()
    ours = logging.StreamHandler(stream)
    saved = [(h, h.formatter) for h in root.handlers]
    root.addHandler(ours)
    level = root.level
    try:
        for name, value in ENV.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("JOURNEYBOT_LOG_FORMAT", "json")
        logs.configure("INFO")
        assert isinstance(ours.formatter, logs.JsonFormatter)
        logging.getLogger("journeybot.test.json").warning("late %s", TOKEN)
        monkeypatch.setenv("JOURNEYBOT_LOG_FORMAT", "text")
        logs.configure("INFO")  # configured again as text: back to the masked text format
        assert type(ours.formatter) is logs.RedactingFormatter
    finally:
        root.removeHandler(ours)
        root.setLevel(level)
        for handler, formatter in saved:
            handler.setFormatter(formatter)
        logs._format = "text"
    entry = json.loads(stream.getvalue().splitlines()[0])
    assert entry["message"] == "late ***" and entry["logger"] == "journeybot.test.json"
