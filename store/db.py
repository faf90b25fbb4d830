"""Database URL, engine and migrations. SQLite by default, PostgreSQL for scale."""
from __future__ import annotations

import logging
import os
import threading
from collections import deque
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from store.records import StoreUnavailable

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
PG_MIGRATION_LOCK = 7_411_902  # an arbitrary advisory lock id owned by journeybot
# The newest migration(s). A test checks this against Alembic's own heads, so that start-up can
# compare it with the database's version without loading Alembic when nothing is behind.
SCHEMA_HEADS = frozenset({"0004_survey_links"})


def default_database_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("journeybot", appauthor=False)) / "journeybot.db"


def database_url(env: Mapping[str, str] | None = None) -> str:
    """DATABASE_URL with the driver picked for the user: psycopg 3 for PostgreSQL."""
    env = os.environ if env is None else env
    raw = env.get("DATABASE_URL", "").strip()
    if not raw:
        return f"sqlite:///{default_database_path()}"
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://") :]
    if raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw[len("postgresql://") :]
    return raw


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_synchronous(env: Mapping[str, str] | None = None) -> str:
    """FULL (default) syncs every commit to disk; NORMAL (with WAL) survives a crashed or killed
    process just as well and only risks the last commits when the whole machine loses power."""
    env = os.environ if env is None else env
    value = env.get("JOURNEYBOT_SQLITE_SYNCHRONOUS", "FULL").strip().upper()
    return value if value in ("FULL", "NORMAL", "EXTRA") else "FULL"


class FairLock:
    """A lock granted in arrival order (threading.Lock makes no such promise)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._held = False

    def __enter__(self) -> "FairLock":
        with self._mutex:
            if not self._held and not self._waiters:
                self._held = True
                return self
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        turn.acquire()  # released by the holder before us, which hands the lock over
        return self

    def __exit__(self, *exc: object) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False


def make_engine(url: str, *, pool_size: int = 5, read_only: bool = False) -> Engine:
    """An engine for `url`. SQLite write engines start every transaction with BEGIN IMMEDIATE;
    `read_only` engines (SQLite) begin deferred, so readers never wait for the writer (WAL)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        synchronous = sqlite_synchronous()
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            # Writers wait for each other instead of failing; WAL lets readers go on while one writes.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:
            # Writers take the write lock at the start, so read-modify-write transactions serialise.
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    # No pre-ping (a round trip on every checkout): a connection the server dropped fails its first
    # statement, is invalidated, and the store repeats the transaction on a fresh one.
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=False)


def insert_on_conflict(session: "Session") -> Any:
    """INSERT with ON CONFLICT for the session's database (only that dialect's module is loaded)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def alembic_config(engine: Engine | None = None) -> "Config":
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": PG_MIGRATION_LOCK})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": PG_MIGRATION_LOCK})
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    from filelock import FileLock  # works on Windows too, unlike fcntl

    with FileLock(f"{database}.migrate.lock"):
        yield


def schema_version(engine: Engine) -> frozenset[str]:
    """The revisions the database is at (empty for a new database)."""
    try:
        with engine.connect() as conn:
            return frozenset(row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version")))
    except DBAPIError as exc:
        if exc.connection_invalidated or "alembic_version" not in str(exc.orig):
            raise
        return frozenset()


class SchemaBehind(StoreUnavailable):
    """The database is behind this release and this process may not migrate it (JOURNEYBOT_AUTO_MIGRATE=0):
    `journeybot db upgrade` must run first. A StoreUnavailable: the process cannot use the store."""

    needs_upgrade = True

    def __init__(self, current: frozenset[str]) -> None:
        self.current = current
        super().__init__(f"database schema at {sorted(current) or 'nothing'}, this release needs {sorted(SCHEMA_HEADS)}")


def upgrade_if_behind(engine: Engine, *, migrate: bool = True) -> bool:
    """Migrate only when the database is behind this release; Alembic is loaded only then.

    With `migrate` False nothing is ever migrated: a database behind this release raises SchemaBehind,
    and one a newer release already migrated further is used as it is (migrations add, so an older
    release keeps working during a rolling deploy)."""
    current = schema_version(engine)
    if current == SCHEMA_HEADS:
        return False
    if not migrate:
        if current and not current <= _known_revisions():
            log.warning("database schema %s is newer than this release's %s", sorted(current), sorted(SCHEMA_HEADS))
            return False
        raise SchemaBehind(current)
    upgrade(engine)
    return True


def _known_revisions() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    return frozenset(rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions())


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (all heads). Safe to call from several processes."""
    from alembic import command

    cfg = alembic_config(engine)
    with _migration_lock(engine):
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
