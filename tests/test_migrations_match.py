"""The Alembic migrations build exactly the tables the typed models describe, on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from store.db import database_url
from store.models import Base
from store.repository import Store
import store.living  # noqa: F401  (its tables are part of the metadata)


def test_the_migrations_match_the_models(db_url: str) -> None:
    repo = Store.open(database_url({"DATABASE_URL": db_url}))
    try:
        with repo.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    finally:
        repo.close()
    assert diff == []
