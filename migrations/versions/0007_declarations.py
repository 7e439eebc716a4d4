"""declarations: declaration and declaration_line

Revision ID: 0007
Revises: 0004
Create Date: 2026-11-23 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "declaration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("financing", sa.String(length=40), nullable=False),
        sa.Column("financier_id", sa.Integer(), nullable=False),
        sa.Column("periode_begin", sa.Date(), nullable=False),
        sa.Column("periode_eind", sa.Date(), nullable=False),
        sa.Column("nummer", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("dagtekening", sa.Date(), nullable=True),
        sa.Column("message_reference", sa.String(length=150), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("answer_reference", sa.String(length=150), nullable=True),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("awarded_cents", sa.Integer(), nullable=True),
        sa.Column("retourcodes", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("sent_at", TZ, nullable=True),
        sa.Column("answered_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["financier_id"], ["financier.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("financing", "nummer", name="uq_declaration_number"),
    )
    op.create_index("ix_declaration_financing", "declaration", ["financing"])
    op.create_index("ix_declaration_financier_id", "declaration", ["financier_id"])
    op.create_index("ix_declaration_status", "declaration", ["status"])
    op.create_index("ix_declaration_message_reference", "declaration", ["message_reference"])

    op.create_table(
        "declaration_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("declaration_id", sa.Integer(), nullable=True),
        sa.Column("financing", sa.String(length=40), nullable=False),
        sa.Column("financier_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("legitimation_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("contract_line_id", sa.Integer(), nullable=True),
        sa.Column("productcategorie", sa.String(length=10), nullable=True),
        sa.Column("productcode", sa.String(length=10), nullable=True),
        sa.Column("begindatum", sa.Date(), nullable=False),
        sa.Column("einddatum", sa.Date(), nullable=False),
        sa.Column("volume", sa.Integer(), nullable=False),
        sa.Column("eenheid", sa.String(length=10), nullable=False),
        sa.Column("tarief_cents", sa.Integer(), nullable=True),
        sa.Column("bedrag_cents", sa.Integer(), nullable=False),
        sa.Column("debet_credit", sa.String(length=1), nullable=False),
        sa.Column("referentie", sa.String(length=40), nullable=False),
        sa.Column("credit_of_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("retourcodes", sa.JSON(), nullable=False),
        sa.Column("registration_ids", sa.JSON(), nullable=False),
        sa.Column("toelichting", sa.JSON(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["declaration_id"], ["declaration.id"]),
        sa.ForeignKeyConstraint(["financier_id"], ["financier.id"]),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"]),
        sa.ForeignKeyConstraint(["legitimation_id"], ["legitimation.id"]),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"]),
        sa.ForeignKeyConstraint(["contract_line_id"], ["contract_line.id"]),
        sa.ForeignKeyConstraint(["credit_of_id"], ["declaration_line.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("referentie", name="uq_declaration_line_reference"),
    )
    op.create_index("ix_declaration_line_declaration_id", "declaration_line", ["declaration_id"])
    op.create_index("ix_declaration_line_financing", "declaration_line", ["financing"])
    op.create_index("ix_declaration_line_financier_id", "declaration_line", ["financier_id"])
    op.create_index("ix_declaration_line_client_id", "declaration_line", ["client_id"])
    op.create_index("ix_declaration_line_legitimation_id", "declaration_line", ["legitimation_id"])
    op.create_index("ix_declaration_line_status", "declaration_line", ["status"])
    op.create_index(
        "ix_declaration_line_client_period", "declaration_line", ["client_id", "begindatum"]
    )


def downgrade() -> None:
    op.drop_table("declaration_line")
    op.drop_table("declaration")
