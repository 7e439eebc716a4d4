"""The migrations form one line and build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from portal.db import Base
from portal.migrate import alembic_config


def test_one_head():
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"more than one migration head: {heads}; add a merge migration"


def test_migrated_database_matches_the_models(app):
    engine = app.extensions["db_engine"]
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, Base.metadata)
    # Indexes that exist only for PostgreSQL (trigram search) are created by hand in 0002.
    tables = [
        d for d in diff if d[0] in ("add_table", "remove_table", "add_column", "remove_column")
    ]
    assert tables == [], f"models and migrations differ: {tables}"
