"""Start-up skips Alembic when the database is at SCHEMA_HEADS, so that constant must be Alembic's own heads."""
from __future__ import annotations

from alembic.script import ScriptDirectory

from store.db import SCHEMA_HEADS, alembic_config, schema_version, upgrade_if_behind
from store.repository import Store


def test_schema_heads_match_the_migrations() -> None:
    assert frozenset(ScriptDirectory.from_config(alembic_config()).get_heads()) == SCHEMA_HEADS


def test_a_new_database_is_migrated_once_then_left_alone(db_url: str) -> None:
    from store.db import database_url

    store = Store.open(database_url({"DATABASE_URL": db_url}))
    try:
        assert schema_version(store.engine) == SCHEMA_HEADS
        assert upgrade_if_behind(store.engine) is False
    finally:
        store.close()
