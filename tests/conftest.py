"""Shared fixtures: databases (SQLite always, PostgreSQL when reachable), stores, the application layer."""
from __future__ import annotations

import os
import uuid
from datetime import date
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text

from app import Journeys
from store.repository import Store

TODAY = date(2026, 11, 23)
PG_ADMIN_URL = os.environ.get("JOURNEYBOT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")

for _proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_proxy, None)
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")


def _driver_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """An admin URL of a reachable PostgreSQL server, or a skip with the reason."""
    try:
        engine = create_engine(_driver_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # the reason is shown in the skip
        if os.environ.get("JOURNEYBOT_REQUIRE_PG"):
            pytest.fail(f"PostgreSQL required but not reachable at {PG_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}")
    yield PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"jb_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_driver_url(pg_server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = pg_server.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'journeybot.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request) -> str:
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def repo(db_url: str) -> Iterator[Store]:
    from store.db import database_url

    store = Store.open(database_url({"DATABASE_URL": db_url}))
    yield store
    store.close()


@pytest.fixture
def journeys(repo: Store) -> Journeys:
    return Journeys(repo, today=lambda: TODAY)
