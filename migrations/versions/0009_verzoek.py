"""verzoek: requests for a (changed) legitimation and their outcome (iWmo/iJw 315/317)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "verzoek",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("financier_id", sa.Integer(), nullable=False),
        sa.Column("financing", sa.String(length=40), nullable=False),
        sa.Column("soort", sa.String(length=20), nullable=False),
        sa.Column("referentie", sa.String(length=40), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("antwoord", sa.JSON(), nullable=True),
        sa.Column("legitimation_ids", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"]),
        sa.ForeignKeyConstraint(["financier_id"], ["financier.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("financing", "referentie", name="uq_verzoek_referentie"),
    )
    op.create_index("ix_verzoek_client_id", "verzoek", ["client_id"])
    op.create_index("ix_verzoek_financier_id", "verzoek", ["financier_id"])
    op.create_index("ix_verzoek_financing", "verzoek", ["financing"])
    op.create_index("ix_verzoek_message_id", "verzoek", ["message_id"])
    op.create_index("ix_verzoek_status", "verzoek", ["status"])


def downgrade() -> None:
    op.drop_table("verzoek")
