"""Logging for every channel: one format, and secrets from the environment never reach a log line.

What counts as a secret: the value of every variable in `SECRET_VARIABLES` and the password in
`DATABASE_URL`, when it is at least `MIN_SECRET` characters long (a shorter value cannot be told
apart from ordinary text). Each is found in its raw form and in every URL-encoded form of it:
`%3A` or `%3a` for ':', `quote`, `quote_plus` (a space as `+`), encoded twice (`%253A`), and
mixtures of these, so `/bot123%3AABC/getFile` in an httpx request line is masked like `123:ABC`.

Masking happens in three places, so that no path around one of them prints a secret:

- `RedactingFormatter`, on every handler `configure()` sets up, masks the whole formatted line:
  the message with its arguments, the traceback (`exc_text`) and the stack (`stack_info`).
- A log record factory masks each record when it is made: its message, with the arguments merged
  in at that moment (a live argument changed later cannot bring a secret back), its stack, and its
  traceback text, which every formatter then reuses. So handlers added later by a library or a test
  (pytest's caplog), or a root logger configured again, get masked records too.
- `sys.excepthook` and `threading.excepthook` mask an uncaught exception's traceback.

The secrets are read from the environment when a record is made (cached until they change), so a
variable set after `configure()` is masked as well.

`JOURNEYBOT_LOG_FORMAT=json` makes every line one JSON object (`JsonFormatter`): `time` (UTC, ISO
8601 with milliseconds), `level`, `logger`, `message`, and `exception` (the traceback) or `stack`
when there is one; each field is masked before it is encoded, and an uncaught exception is written
as such an object too. The default is `text`, in `FORMAT`.
"""
from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import traceback
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import unquote, urlsplit

SECRET_VARIABLES = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "OPENAI_API_KEY",
)
URL_VARIABLES = ("DATABASE_URL",)  # the password of these URLs is a secret too
MASK = "***"
MIN_SECRET = 6
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def secrets_in(env: Mapping[str, str]) -> list[str]:
    """The secrets of `env`, decoded, longest first (so one that contains another is masked whole)."""
    found = {env.get(name, "").strip() for name in SECRET_VARIABLES}
    for name in URL_VARIABLES:
        try:
            password = urlsplit(env.get(name, "").strip()).password
        except ValueError:  # not a URL at all
            password = None
        if password:
            found |= {password, unquote(password)}
    return sorted((s for s in found if len(s) >= MIN_SECRET), key=lambda s: (-len(s), s))


def _hex(value: int) -> str:
    return "".join(f"[{d}{d.lower()}]" if d.isalpha() else d for d in f"{value:02X}")


def _char_pattern(char: str) -> str:
    """`char` as written, or percent-encoded (any case, once or twice), or `+` for a space."""
    encoded = "".join(f"%(?:25)?{_hex(b)}" for b in char.encode("utf-8"))
    forms = [re.escape(char), encoded]
    if char == " ":
        forms.append(r"\+")
    if char == "/":
        forms.append(r"\\/")  # JSON may escape it
    return "(?:" + "|".join(forms) + ")"


class Redactor:
    """Masks the given secrets, raw or URL-encoded, in any text."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = secrets
        self.pattern = re.compile("|".join("".join(_char_pattern(c) for c in s) for s in secrets)) if secrets else None

    def __call__(self, text: str) -> str:
        if self.pattern is None or not text:
            return text
        return self.pattern.sub(MASK, text)


class _Secrets:
    """The redactor for an environment, rebuilt only when one of its secrets changes."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.env = env
        self._key: tuple[str, ...] | None = None
        self._redactor = Redactor([])

    def redactor(self) -> Redactor:
        env = os.environ if self.env is None else self.env
        key = tuple(env.get(name, "") for name in SECRET_VARIABLES + URL_VARIABLES)
        if key != self._key:
            self._redactor, self._key = Redactor(secrets_in(env)), key
        return self._redactor


_live = _Secrets()


def redact(text: str, env: Mapping[str, str] | None = None) -> str:
    """`text` with every secret of `env` (the process environment by default) masked."""
    return (_live if env is None else _Secrets(env)).redactor()(text)


class RedactingFormatter(logging.Formatter):
    """A formatter whose output never contains a secret: message, arguments, traceback and stack."""

    def __init__(self, fmt: str | None = FORMAT, *args: Any, env: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(fmt, *args, **kwargs)
        self._secrets = _live if env is None else _Secrets(env)

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        # what this returns is cached on the record as exc_text and reused by every other handler
        return self._secrets.redactor()(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        return self._secrets.redactor()(super().formatStack(stack_info))

    def format(self, record: logging.LogRecord) -> str:
        redactor = self._secrets.redactor()
        if record.exc_text:
            record.exc_text = redactor(record.exc_text)
        return redactor(super().format(record))


class JsonFormatter(RedactingFormatter):
    """One JSON object per record, every field masked before it is encoded (so a secret cannot hide
    behind JSON's escapes): time, level, logger, message, and exception or stack when there is one."""

    def __init__(self, *, env: Mapping[str, str] | None = None) -> None:
        super().__init__(None, env=env)

    def format(self, record: logging.LogRecord) -> str:
        redactor = self._secrets.redactor()
        entry: dict[str, str] = {
            "time": _utc(record.created),
            "level": record.levelname,
            "logger": redactor(record.name),
            "message": redactor(record.getMessage()),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)  # masked; cached for other handlers
        if record.exc_text:
            entry["exception"] = redactor(record.exc_text)
        if record.stack_info:
            entry["stack"] = redactor(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False)


def _utc(created: float) -> str:
    return datetime.fromtimestamp(created, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def redact_record(record: logging.LogRecord, redactor: Redactor) -> logging.LogRecord:
    """Masks a record in place: its message (arguments merged in), traceback text and stack."""
    if redactor.pattern is None:
        return record
    try:
        message = record.getMessage()
    except Exception:  # arguments that do not fit the message: logging reports that when it emits
        return record
    # The message is kept as text, arguments merged: an argument is often a live object (a dict the
    # library fills in afterwards, as python-telegram-bot does with a file's URL and its token), so a
    # handler that formats the record later (a queue, a memory buffer) would see what was never masked.
    record.msg, record.args = redactor(message), None
    if record.exc_info and not record.exc_text:
        text = _plain.formatException(record.exc_info)
        masked = redactor(text)
        if masked != text:
            record.exc_text = masked  # every formatter reuses this text instead of formatting the traceback again
    elif record.exc_text:
        record.exc_text = redactor(record.exc_text)
    if record.stack_info:
        record.stack_info = redactor(record.stack_info)
    return record


_plain = logging.Formatter()


def _install_record_factory() -> None:
    current = logging.getLogRecordFactory()
    if getattr(current, "_journeybot_redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(current(*args, **kwargs), _live.redactor())

    factory._journeybot_redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def _install_excepthooks() -> None:
    """Uncaught exceptions are printed as Python would, with the secrets masked. Only Python's own
    hooks are replaced: one a debugger or a test runner installed is left to do its work."""

    def excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        if sys.stderr is not None:
            sys.stderr.write(_uncaught("".join(traceback.format_exception(kind, value, tb))))

    def thread_excepthook(args: Any) -> None:
        if args.exc_type is SystemExit or sys.stderr is None:
            return
        name = args.thread.name if args.thread is not None else "?"
        text = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
        sys.stderr.write(_uncaught(text, f"Exception in thread {name}"))

    if sys.excepthook is sys.__excepthook__:
        sys.excepthook = excepthook
    if threading.excepthook is threading.__excepthook__:
        threading.excepthook = thread_excepthook


def _uncaught(text: str, title: str = "") -> str:
    """An uncaught exception as Python prints it, or as one JSON object with JOURNEYBOT_LOG_FORMAT=json."""
    if _format == "json":
        lines = text.rstrip().splitlines()
        message = title or (lines[-1] if lines else "uncaught exception")
        entry = {"time": _utc(datetime.now(timezone.utc).timestamp()), "level": "CRITICAL", "logger": "uncaught", "message": redact(message), "exception": redact(text.rstrip())}
        return json.dumps(entry, ensure_ascii=False) + "\n"
    return redact(f"{title}:\n{text}" if title else text)


_format = "text"  # the format `configure` set up: "text" or "json"


def log_format(env: Mapping[str, str] | None = None) -> str:
    """JOURNEYBOT_LOG_FORMAT: "json", or "text" (the default, and for any other value)."""
    source = os.environ if env is None else env
    return "json" if (source.get("JOURNEYBOT_LOG_FORMAT") or "").strip().lower() == "json" else "text"


def cover(handler: logging.Handler, env: Mapping[str, str] | None = None) -> logging.Handler:
    """Makes `handler` mask secrets: its formatter keeps its format and gains the masking."""
    current = handler.formatter
    if isinstance(current, RedactingFormatter):
        return handler
    if current is None:
        handler.setFormatter(RedactingFormatter(FORMAT, env=env))
    else:
        handler.setFormatter(
            RedactingFormatter(current._fmt, current.datefmt, style=_style_of(current), env=env)
        )
    return handler


def _style_of(formatter: logging.Formatter) -> str:
    for style, cls in logging._STYLES.items():
        if type(formatter._style) is cls[0]:
            return style
    return "%"


def configure(level: str | None = None, env: Mapping[str, str] | None = None) -> None:
    """The log level from JOURNEYBOT_LOG_LEVEL (default WARNING), one format (JOURNEYBOT_LOG_FORMAT:
    text, or json for one JSON object per line), and secrets masked on every handler of the root
    logger, in every record and in uncaught exceptions."""
    global _format
    source = os.environ if env is None else env
    logging.basicConfig(level=(level or source.get("JOURNEYBOT_LOG_LEVEL", "WARNING")).upper(), format=FORMAT)
    _install_record_factory()
    _install_excepthooks()
    _format = log_format(source)
    for handler in logging.getLogger().handlers:
        if _format == "json":
            if not isinstance(handler.formatter, JsonFormatter):
                handler.setFormatter(JsonFormatter(env=env))
        elif isinstance(handler.formatter, JsonFormatter):  # configured again, as text
            handler.setFormatter(RedactingFormatter(FORMAT, env=env))
        else:
            cover(handler, env)


def one_line(text: object) -> str:
    """`text` masked and on one line: for start-up errors printed to the owner."""
    return " ".join(redact(str(text)).split())


def fail(message: str, *, file: Any = None) -> None:
    """Prints a start-up failure: one line, secrets masked."""
    print(one_line(message), file=file or sys.stderr)

