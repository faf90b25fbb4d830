"""JOURNEYBOT_AUTO_MIGRATE=0: a process never migrates at start. A database behind this release
stops it with one line in the operator's language that says to run `journeybot db upgrade` (exit
code 2), and leaves the database as it was; `journeybot db upgrade` still migrates; the default (1)
migrates at start as before. On SQLite and on PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from app import Journeys, StoreUnavailable
from handlers.cli import main
from store.db import SCHEMA_HEADS, SchemaBehind, alembic_config, database_url, schema_version
from store.repository import Store

JOURNEYBOT = Path(sys.executable).with_name("journeybot")
OLDER = "0003_outbox"  # a revision before this release's head


def _engine(url: str):  # type: ignore[no-untyped-def]
    return create_engine(database_url({"DATABASE_URL": url}))


def version_of(url: str) -> frozenset[str]:
    engine = _engine(url)
    try:
        return schema_version(engine)
    finally:
        engine.dispose()


def tables_of(url: str) -> set[str]:
    engine = _engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def migrate_to(url: str, revision: str) -> None:
    engine = _engine(url)
    try:
        cfg = alembic_config(engine)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


def set_version(url: str, revision: str) -> None:
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    finally:
        engine.dispose()


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str, args: list[str], **env: str) -> tuple[int, str, str]:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("JOURNEYBOT_USER", "ann")
    monkeypatch.delenv("JOURNEYBOT_AUTO_MIGRATE", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("lang, words", [("en", "is behind this release"), ("nl", "loopt achter op deze versie")])
def test_an_empty_database_is_refused_in_one_line_and_left_empty(
    db_url: str, lang: str, words: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(monkeypatch, capsys, db_url, ["list"], JOURNEYBOT_AUTO_MIGRATE="0", JOURNEYBOT_LANG=lang)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and words in err and "journeybot db upgrade" in err, err
    assert "Traceback" not in err
    assert tables_of(db_url) == set()  # nothing was created, not even alembic_version


def test_a_database_behind_is_refused_then_upgraded_by_db_upgrade(db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    migrate_to(db_url, OLDER)
    assert version_of(db_url) == {OLDER}
    for off in ("0", "off", "false"):
        code, _, err = run_cli(monkeypatch, capsys, db_url, ["list"], JOURNEYBOT_AUTO_MIGRATE=off, JOURNEYBOT_LANG="en")
        assert code == 2 and "journeybot db upgrade" in err, (off, err)
        assert version_of(db_url) == {OLDER}, f"JOURNEYBOT_AUTO_MIGRATE={off} migrated"
    # the migrate step of a deployment shares the workers' settings: db upgrade migrates anyway
    code, out, err = run_cli(monkeypatch, capsys, db_url, ["db", "upgrade"], JOURNEYBOT_AUTO_MIGRATE="0", JOURNEYBOT_LANG="en")
    assert code == 0, err
    assert "up to date" in out
    assert version_of(db_url) == SCHEMA_HEADS
    code, out, err = run_cli(monkeypatch, capsys, db_url, ["list"], JOURNEYBOT_AUTO_MIGRATE="0", JOURNEYBOT_LANG="en")
    assert code == 0 and err == "", err


@pytest.mark.parametrize("setting", [None, "1"])
def test_by_default_a_process_migrates_at_start(
    db_url: str, setting: str | None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    migrate_to(db_url, OLDER)
    env = {"JOURNEYBOT_LANG": "en"} if setting is None else {"JOURNEYBOT_LANG": "en", "JOURNEYBOT_AUTO_MIGRATE": setting}
    code, _, err = run_cli(monkeypatch, capsys, db_url, ["list"], **env)
    assert code == 0, err
    assert version_of(db_url) == SCHEMA_HEADS


def test_from_env_reads_the_setting_and_the_store_takes_the_decision(db_url: str) -> None:
    url = database_url({"DATABASE_URL": db_url})
    with pytest.raises(SchemaBehind) as refused:
        Journeys.from_env({"DATABASE_URL": db_url, "JOURNEYBOT_AUTO_MIGRATE": " 0 "})
    assert isinstance(refused.value, StoreUnavailable) and refused.value.current == frozenset()
    with pytest.raises(SchemaBehind):
        Store.open(url, migrate=False)
    assert version_of(db_url) == frozenset()
    journeys = Journeys.from_env({"DATABASE_URL": db_url, "JOURNEYBOT_AUTO_MIGRATE": "0"}, migrate=True)  # an explicit decision wins
    journeys.close()
    assert version_of(db_url) == SCHEMA_HEADS
    Journeys.from_env({"DATABASE_URL": db_url, "JOURNEYBOT_AUTO_MIGRATE": "0"}).close()  # up to date: it starts


def test_a_database_a_newer_release_migrated_is_used_as_it_is(db_url: str) -> None:
    """During a rolling deploy the migrate step of the new release runs first; a worker of the old
    release that restarts then finds revisions it does not know and starts without migrating."""
    Store.open(database_url({"DATABASE_URL": db_url})).close()
    set_version(db_url, "9999_from_a_newer_release")
    store = Store.open(database_url({"DATABASE_URL": db_url}), migrate=False)
    store.close()
    assert version_of(db_url) == {"9999_from_a_newer_release"}


def test_journeybot_telegram_refuses_to_start_on_a_database_behind(tmp_path: Path) -> None:
    """The real console script, as a container runs it: one line on stderr, exit code 2, before it
    talks to Telegram (the API URL leads nowhere)."""
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    migrate_to(url, OLDER)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "JOURNEYBOT_AUTO_MIGRATE": "0",
        "JOURNEYBOT_LANG": "en",
        "TELEGRAM_BOT_TOKEN": "123456:TEST-token_abcdef",
        "TELEGRAM_API_URL": "http://127.0.0.1:9",
    }
    done = subprocess.run([str(JOURNEYBOT), "telegram"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "journeybot db upgrade" in done.stderr, done.stderr
    assert "TEST-token" not in done.stderr
    assert version_of(url) == {OLDER}
