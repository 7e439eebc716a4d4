"""client search and list indexes

The clients list orders by surname: indexes on (achternaam, id), (actief, achternaam, id) and
(team, actief, achternaam, id) give the ids of any page, also a late one, from the index alone.
The financing filter looks at current legitimations: (financing, status, client_id, begindatum,
einddatum) answers it without touching the table. Search is ILIKE '%term%': trigram GIN indexes
on PostgreSQL (SQLite has no pg_trgm and skips them); a word of one or two letters matches the
start of the surname (lower(achternaam) LIKE 'ja%', a pattern index on PostgreSQL).

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
    op.create_index("ix_client_actief_achternaam_id", "client", ["actief", "achternaam", "id"])
    op.create_index(
        "ix_client_team_actief_achternaam_id", "client", ["team", "actief", "achternaam", "id"]
    )
    op.create_index(
        "ix_legitimation_financing_current",
        "legitimation",
        ["financing", "status", "client_id", "begindatum", "einddatum"],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in TRIGRAM_COLUMNS:
            op.execute(
                f"CREATE INDEX IF NOT EXISTS ix_client_{column}_trgm "
                f"ON client USING gin ({column} gin_trgm_ops)"
            )
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_client_achternaam_lower_prefix "
            "ON client (lower(achternaam) text_pattern_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in TRIGRAM_COLUMNS:
            op.execute(f"DROP INDEX IF EXISTS ix_client_{column}_trgm")
        op.execute("DROP INDEX IF EXISTS ix_client_achternaam_lower_prefix")
    op.drop_index("ix_legitimation_financing_current", table_name="legitimation")
    op.drop_index("ix_client_team_actief_achternaam_id", table_name="client")
    op.drop_index("ix_client_actief_achternaam_id", table_name="client")
    op.drop_index("ix_client_achternaam_id", table_name="client")
