"""The `journeybot` command: chat, export, list, db upgrade, stats, the channel servers and the survey page.

Every command goes through the application layer (`app.Journeys`). Imports are lazy: building the
parser loads only the prompts, so `journeybot --help` never loads the database stack, pydantic or
the engine.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, MutableMapping, Sequence, TextIO

import prompts

if TYPE_CHECKING:
    from app import Journeys, OwnerKey


EXPORT_FORMATS = ("md", "html", "png", "pdf", "csv", "xlsx")
BINARY_FORMATS = frozenset({"png", "pdf", "xlsx"})

def _lang() -> str:
    return prompts.normalise_language(os.environ.get("JOURNEYBOT_LANG") or os.environ.get("LANG"))


def _t(key: str, **values: object) -> str:
    return prompts.say(_lang(), "cli", key, **values)


def _term(key: str, **values: object) -> str:
    return prompts.say(_lang(), "terminal", key, **values)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="journeybot", description=_t("description"))
    sub = parser.add_subparsers(dest="command")

    chat = sub.add_parser("chat", help=_t("chat"))
    chat.add_argument("--jsonl", action="store_true", help=_t("jsonl"))
    chat.add_argument("--export-dir", type=Path, default=None, help=_t("export_dir"))
    chat.add_argument("--user", default=None, help=_t("user"))

    export = sub.add_parser("export", help=_t("export"))
    export.add_argument("journey_id", nargs="?", type=int, help=_t("journey_id"))
    export.add_argument("-o", "--output", type=Path, default=None, help=_t("output"))
    export.add_argument("-f", "--format", choices=EXPORT_FORMATS, default=None, help=_t("format"))
    export.add_argument("--user", default=None, help=_t("user"))

    listing = sub.add_parser("list", help=_t("list"))
    listing.add_argument("--user", default=None, help=_t("user"))

    db = sub.add_parser("db", help=_t("db"))
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help=_t("upgrade"))

    sub.add_parser("telegram", help=_t("telegram"))
    slack = sub.add_parser("slack", help=_t("slack"))
    slack.add_argument("--port", type=int, default=None, help=_t("port"))  # default: PORT, else 3000
    sub.add_parser("stats", help=_t("stats"))
    sub.add_parser("web", help=_t("web"))  # JOURNEYBOT_WEB_LISTEN / JOURNEYBOT_WEB_PORT
    return parser


def _owner(user: str | None) -> "OwnerKey":
    from handlers.terminal import terminal_owner

    env = dict(os.environ)
    if user:
        env["JOURNEYBOT_USER"] = user
    return terminal_owner(env)


class DatabaseUnusable(RuntimeError):
    """DATABASE_URL names something that cannot be opened as journeybot's database (not an outage)."""


def _journeys(*, migrate: bool | None = None) -> "Journeys":
    """The application layer from the environment; `migrate` None follows JOURNEYBOT_AUTO_MIGRATE."""
    from app import Journeys, StoreUnavailable

    try:
        return Journeys.from_env(migrate=migrate)
    except StoreUnavailable:
        raise
    except Exception as exc:  # an unknown scheme, a missing driver, a URL that does not parse
        raise DatabaseUnusable(_error_text(exc)) from exc


def _database_url() -> str:
    from app import database_location
    from handlers import logs

    try:
        return database_location()
    except Exception:  # a URL that does not even parse: shown with its secrets masked
        return logs.one_line(os.environ.get("DATABASE_URL", ""))


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command. Whatever stops it — the database down or unusable, a refused token, a taken
    port, an unexpected error — ends with one line on stderr in the operator's language and a
    non-zero exit code: never a traceback, never a secret (JOURNEYBOT_LOG_LEVEL=DEBUG logs the
    traceback, with secrets masked)."""
    import logging

    from handlers import logs

    load_env_file()
    logs.configure()
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "chat"
    if args.command is None:
        args = parser.parse_args(["chat"])
    if command != "chat":  # the terminal chat keeps its first question fast: it meets its few settings as it uses them
        bad = _bad_setting()
        if bad is not None:
            logs.fail(bad)
            return 2
    from app import StoreUnavailable

    try:
        return _dispatch(command, args)
    except StoreUnavailable as exc:
        if getattr(exc, "needs_upgrade", False):  # behind this release, JOURNEYBOT_AUTO_MIGRATE=0 (store.db.SchemaBehind)
            logs.fail(_t("schema_behind", url=_database_url()))
            return 2
        logs.fail(_term("store_down", url=_database_url(), error=exc))
        return 2
    except DatabaseUnusable as exc:
        logs.fail(_t("database_unusable", url=_database_url(), error=exc))
        return 2
    except Exception as exc:
        logging.getLogger("journeybot").debug("journeybot %s failed", command, exc_info=True)
        logs.fail(_t("failed", command=command, error=_error_text(exc)))
        return 1


def load_env_file(path: Path | None = None, environ: MutableMapping[str, str] | None = None) -> None:
    """Bring the variables of a `.env` file (in the current folder by default) into the environment,
    before anything reads it; variables already set win. Only python-dotenv is imported, so `--help`
    stays light."""
    from dotenv import dotenv_values

    target: MutableMapping[str, str] = os.environ if environ is None else environ
    path = path or Path(".env")
    if not path.is_file():
        return
    for key, value in dotenv_values(path).items():
        if value is not None and key not in target:
            target[key] = value


def _bad_setting() -> str | None:
    """One line about the first setting that cannot be used (app/settings.py), or None."""
    from app.settings import BadSetting, check

    try:
        check()
    except BadSetting as exc:
        return _t("settings.bad", name=exc.name, value=exc.value, expected=_t(f"settings.expects.{exc.expects}"))
    return None


def _dispatch(command: str, args: argparse.Namespace) -> int:
    if command == "db":
        _journeys(migrate=True).close()  # opening the store brings the schema up to date, whatever JOURNEYBOT_AUTO_MIGRATE says
        print(_term("migrated", url=_database_url()))
        return 0
    if command == "chat":
        from handlers.terminal import run_chat

        journeys = _journeys()
        try:
            return run_chat(journeys, jsonl=args.jsonl, export_dir=args.export_dir, owner=_owner(args.user))
        finally:
            journeys.close()
    if command == "export":
        return _export(args)
    if command == "list":
        return _list(args)
    if command == "telegram":
        if not os.environ.get("TELEGRAM_BOT_TOKEN", "").strip():
            print(_t("missing_token", name="TELEGRAM_BOT_TOKEN"), file=sys.stderr)
            return 2
        from handlers.telegram.app import main as telegram_main

        return int(telegram_main(_journeys()) or 0)
    if command == "slack":
        for name in ("SLACK_BOT_TOKEN",) + (() if os.environ.get("SLACK_APP_TOKEN") else ("SLACK_SIGNING_SECRET",)):
            if not os.environ.get(name, "").strip():
                print(_t("missing_token", name=name), file=sys.stderr)
                return 2
        port = args.port
        if port is None:
            raw = os.environ.get("PORT", "").strip() or "3000"
            if not raw.isdigit():
                print(_t("bad_port", value=raw), file=sys.stderr)
                return 2
            port = int(raw)
        from handlers.slack.app import main as slack_main

        return int(slack_main(_journeys(), port=port) or 0)
    if command == "stats":
        return stats()
    if command == "web":
        return _web()
    raise SystemExit(2)


def _web() -> int:
    """`journeybot web`: the page customers answer the survey on, until SIGTERM or SIGINT."""
    import asyncio

    from bot.survey_link import survey_url
    from handlers.web import DEFAULT_LISTEN, DEFAULT_PORT, serve

    listen = os.environ.get("JOURNEYBOT_WEB_LISTEN", "").strip() or DEFAULT_LISTEN
    raw = os.environ.get("JOURNEYBOT_WEB_PORT", "").strip() or str(DEFAULT_PORT)
    if not raw.isdigit() or int(raw) > 65535:
        print(_t("bad_web_port", value=raw), file=sys.stderr)
        return 2
    journeys = _journeys()
    host = f"[{listen}]" if ":" in listen else listen

    def started(port: int) -> None:
        print(_t("web_listening", address=f"http://{host}:{port}", public=survey_url(journeys.public_url, "")), file=sys.stderr, flush=True)

    try:
        asyncio.run(serve(journeys, listen, int(raw), started=started))
    except OSError as exc:
        print(_t("web_cannot_listen", listen=listen, port=raw, error=exc.strerror or exc), file=sys.stderr)
        return 2
    finally:
        journeys.close()
    return 0


def _export(args: argparse.Namespace) -> int:
    """The journey in one format, written by the configured writer (and its cache), exactly as in the chat."""
    import asyncio

    from app import JourneyNotFound

    journeys = _journeys()
    try:
        owner = _owner(args.user)
        journey_id = args.journey_id or journeys.current_journey_id(owner)
        if journey_id is None:
            print(_term("no_journey"), file=sys.stderr)
            return 1
        try:
            item = asyncio.run(journeys.export(owner, journey_id, _format_of(args)))
        except JourneyNotFound:
            print(_term("not_found", id=journey_id), file=sys.stderr)
            return 1
    finally:
        journeys.close()
    output = args.output
    binary = _format_of(args) in BINARY_FORMATS
    if output is None and binary and sys.stdout.isatty():
        output = Path(item.filename)  # a picture or a PDF is never poured into a terminal
    if output is None or str(output) == "-":
        if binary:
            sys.stdout.buffer.write(item.data)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(item.data.decode("utf-8"))
            sys.stdout.flush()
    else:
        output.write_bytes(item.data)
        print(_term("exported", path=str(output)))
    return 0


def _format_of(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    suffix = args.output.suffix.lower().lstrip(".") if args.output is not None else ""
    return suffix if suffix in EXPORT_FORMATS else "md"


def _list(args: argparse.Namespace) -> int:
    journeys = _journeys()
    try:
        owner = _owner(args.user)
        refs = journeys.list_journeys(owner)
    finally:
        journeys.close()
    if not refs:
        print(_term("list_empty"))
        return 0
    print(_term("list_header", user=owner.user_id))
    for ref in refs:
        print(_term("list_item", id=ref.id, title=ref.title, answered=ref.answered, total=ref.total))
    return 0


def stats(*, lang: str | None = None, out: TextIO | None = None) -> int:
    """`journeybot stats`: calls, tokens and fallbacks per summary writer, with labels in the user's language."""
    from handlers.stats import format_stats

    lang = lang or _lang()
    out = out or sys.stdout
    journeys = _journeys()  # opens the store the usual way: schema brought up to date, errors reported alike
    try:
        table = journeys.summary_stats()
    finally:
        journeys.close()
    print(format_stats(table, prompts.load(lang, "llm").get("stats", {})), file=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
