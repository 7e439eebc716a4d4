"""client search and list indexes

The clients list orders by surname (an index on (achternaam, id) lets a page stop after 25 rows),
filters on financing through the legitimations (an index on (financing, status, client_id) answers
that from the index alone), and searches with ILIKE '%term%' (trigram GIN indexes on PostgreSQL;
SQLite has no pg_trgm and skips them).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TRIGRAM_COLUMNS = ("achternaam", "voornamen", "clientnummer", "postcode")


def upgrade() -> None:
    op.create_index("ix_client_achternaam_id", "client", ["achternaam", "id"])
    op.create_index(
        "ix_legitimation_financing_status_client",
        "legitimation",
        ["financing", "status", "client_id"],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in TRIGRAM_COLUMNS:
            op.execute(
                f"CREATE INDEX IF NOT EXISTS ix_client_{column}_trgm "
                f"ON client USING gin ({column} gin_trgm_ops)"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in TRIGRAM_COLUMNS:
            op.execute(f"DROP INDEX IF EXISTS ix_client_{column}_trgm")
    op.drop_index("ix_legitimation_financing_status_client", table_name="legitimation")
    op.drop_index("ix_client_achternaam_id", table_name="client")
